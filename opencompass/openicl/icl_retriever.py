"""Retrievers pick the in-context examples of each test row from the train split."""
from opencompass.errors import ConfigError


class BaseRetriever:

    def __init__(self, ice_separator='\n', ice_eos_token='\n', ice_num=0,
                 **kwargs):
        self.ice_separator = ice_separator
        self.ice_eos_token = ice_eos_token
        self.ice_num = ice_num

    def retrieve(self, dataset):
        """Train-row ids for each test row."""
        raise NotImplementedError

    def build_ice(self, ids, train, ice_template, output_column=None):
        """The in-context examples as one string or as rounds. A template keyed
        by label shows each example with the template of its gold label."""
        if not ids:
            return '' if ice_template is None or not ice_template.is_rounds else []
        if ice_template is None:
            raise ConfigError('a few-shot retriever needs an ice_template in '
                              'infer_cfg to render its examples')
        labeled = ice_template.labels is not None and output_column
        rendered = [ice_template.render(
            train[i], label=train[i].get(output_column) if labeled else None)
            for i in ids]
        if ice_template.is_rounds:
            return [item for rounds in rendered for item in rounds]
        return self.ice_separator.join(rendered) + self.ice_eos_token


class ZeroRetriever(BaseRetriever):
    """Zero-shot: no examples."""

    def retrieve(self, dataset):
        return [[] for _ in dataset.test]


class FixKRetriever(BaseRetriever):
    """The same fixed train examples (`fix_id_list`) for every test row."""

    def __init__(self, fix_id_list=None, **kwargs):
        super().__init__(**kwargs)
        self.fix_id_list = list(fix_id_list or [])

    def retrieve(self, dataset):
        bad = [i for i in self.fix_id_list if not 0 <= i < len(dataset.train)]
        if bad:
            raise ConfigError(
                f'FixKRetriever fix_id_list {bad} out of range: the train split '
                f'has {len(dataset.train)} rows (is train.jsonl there?)')
        return [list(self.fix_id_list) for _ in dataset.test]
