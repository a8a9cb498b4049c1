"""PromptTemplate: rows of a dataset -> prompts, as OpenCompass configs write them.

A template is a string or a dict with `round` (and optional `begin` / `end`) lists
of `{'role': 'HUMAN'|'BOT'|'SYSTEM', 'prompt': '... {column} ...'}`. Columns are
substituted with plain `str.replace`, so other braces (`\\boxed{}`) survive. The
`ice_token` (e.g. '</E>') marks where in-context examples go.
"""
import re

from opencompass.errors import ConfigError
from opencompass.utils.prompt import PromptList


def fill(text, row):
    """Substitute `{column}` for every column in one pass, so a value that
    itself contains `{other_column}` (a model's answer shown to a judge)
    is left as it is."""
    if not row:
        return text
    fields = {'{' + str(key) + '}': str(value) for key, value in row.items()}
    pattern = re.compile('|'.join(map(re.escape, sorted(fields, key=len,
                                                        reverse=True))))
    return pattern.sub(lambda m: fields[m.group(0)], text)


class PromptTemplate:

    def __init__(self, template, ice_token=None, sep_token=None):
        if not isinstance(template, (str, dict)):
            raise ConfigError('prompt_template.template must be a string or a '
                              f'dict with a round list, not {type(template).__name__}')
        self.labels = None
        if isinstance(template, dict) and not ({'round', 'begin', 'end'}
                                               & set(template)):
            bad = [k for k, v in template.items() if not isinstance(v, (str, dict))]
            if not template or bad:
                raise ConfigError(
                    'prompt_template.template dict needs a round list, or one '
                    'template (string or rounds dict) per label for perplexity '
                    f'scoring; got {sorted(map(str, bad or template))}')
            self.labels = list(template)
        self.template = template
        self.ice_token = ice_token
        self.sep_token = sep_token

    @property
    def is_rounds(self):
        if self.labels is not None:
            return isinstance(self.template[self.labels[0]], dict)
        return isinstance(self.template, dict)

    def for_label(self, label):
        """The template of one label (labels may be written 'A', 0 or '0')."""
        for key in (label, str(label)):
            if key in self.template:
                return self.template[key]
        for key in self.labels:
            if str(key) == str(label):
                return self.template[key]
        raise ConfigError(f'no template for label {label!r}; the template has '
                          f'labels {self.labels}')

    def render(self, row, ice=None, output_column=None, template=None,
               label=None):
        """The prompt for `row`. With `output_column`, the BOT round that shows
        that column becomes the generation point: it keeps only the text before
        the column, and nothing after it is rendered. A template keyed by
        label renders the one of `label` (an in-context example's gold)."""
        if template is None and self.labels is not None:
            if label is None:
                raise ConfigError('a template keyed by label needs a '
                                  'PPLInferencer, or a label to render')
            template = self.for_label(label)
        template = self.template if template is None else template
        if output_column:
            row = {**row, output_column: ''}
        if isinstance(template, str):
            text = fill(template, row)
            if self.ice_token:
                text = text.replace(self.ice_token, str(ice or ''))
            return text
        cut = '{' + str(output_column) + '}' if output_column else None
        items = PromptList()
        for part in ('begin', 'round', 'end'):
            section = template.get(part) or []
            for item in [section] if isinstance(section, (str, dict)) else section:
                if (cut and isinstance(item, dict) and item.get('role') == 'BOT'
                        and cut in item.get('prompt', '')):
                    item = dict(item, prompt=item['prompt'].split(cut)[0])
                    items.extend(self._render_item(item, row, ice))
                    return items  # the generation point
                items.extend(self._render_item(item, row, ice))
        return items

    def _render_item(self, item, row, ice):
        if isinstance(item, str):
            if self.ice_token and item == self.ice_token:
                return list(ice or []) if not isinstance(ice, str) else [ice]
            return [fill(item, row)]
        if 'role' not in item:
            return []  # OpenCompass 'section' markers
        out = dict(item)
        out['prompt'] = fill(item.get('prompt', ''), row)
        if self.ice_token and self.ice_token in out['prompt']:
            ice_text = ice if isinstance(ice, str) else str(PromptList(ice or []))
            out['prompt'] = out['prompt'].replace(self.ice_token, ice_text)
        return [out]
