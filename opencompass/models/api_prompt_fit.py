"""Prompt length on the API path: the local tokenizer (when there is one),
token counts of what the server will see, and fitting prompt + answer into the
server's context by the rule every backend uses (`base.fit_to_context`):
the answer reserves at most half the context, the prompt is cut from the left
(or refused, per `prompt_overflow`), and `max_tokens` is what it leaves.
"""
import os

from opencompass.errors import (EngineNotInstalledError, ModelPathError,
                                OpenCompassError, PromptTooLongError)
from opencompass.models.api_transport import _one_line


class PromptFitting:
    """Mixed into OpenAISDK: needs `tokenizer_path`, `tokenizer_kwargs`,
    `context_limit`, `prompt_overflow`, `is_chat`, `_setup()` and
    `_warn_once()` from it."""

    @property
    def tokenizer(self):
        """The local tokenizer, loaded on first use; None when unknown.

        Never looked up by the served name unless it is a local checkpoint dir
        (a GGUF alias or an API name is not a tokenizer id)."""
        if not self._tokenizer_tried:
            self._tokenizer_tried = True
            self._tokenizer = self._load_tokenizer()
        return self._tokenizer

    def _load_tokenizer(self):
        path = self.tokenizer_path
        if path is None and self.path and os.path.isdir(str(self.path)) and any(
                os.path.isfile(os.path.join(self.path, f))
                for f in ('tokenizer.json', 'tokenizer_config.json')):
            path = self.path
        if path is None:
            return None
        from opencompass.utils.embedded import resolve_model_path
        try:
            from transformers import AutoTokenizer
            return AutoTokenizer.from_pretrained(resolve_model_path(path),
                                                 **self.tokenizer_kwargs)
        except ImportError:
            raise EngineNotInstalledError(
                'counting prompt tokens needs transformers: pip install '
                'transformers, or drop tokenizer_path') from None
        except (OSError, ValueError) as exc:
            raise ModelPathError(f'cannot load the tokenizer {path!r} '
                                 f'({_one_line(exc, 200)}); pass a local '
                                 'tokenizer_path or a hub id') from None

    def _render(self, body):
        """The text the server tokenizes: chat template applied in chat mode."""
        tok = self.tokenizer
        if 'prompt' in body:
            return body['prompt']
        if getattr(tok, 'chat_template', None):
            return tok.apply_chat_template(body['messages'], tokenize=False,
                                           add_generation_prompt=True)
        return '\n'.join(m['content'] for m in body['messages'])

    def _count(self, body):
        return len(self.tokenizer.encode(self._render(body),
                                         add_special_tokens='prompt' in body))

    def get_token_len(self, prompt) -> int:
        """Prompt tokens by the local tokenizer; without one, ~4 chars a token."""
        if self.tokenizer_path is None and self.server_info is None:
            try:
                self._setup()  # the served id may name a local checkpoint
            except OpenCompassError:
                pass
        body = self._body(prompt)
        if self.tokenizer is None:
            text = body.get('prompt') or ' '.join(m['content'] for m in body['messages'])
            return len(text) // 4 + 1
        return self._count(body)

    def _body(self, prompt):
        if self.is_chat:
            return {'messages': self.to_messages(prompt)}
        return {'prompt': self.to_text(prompt)}

    def _fit(self, body, max_out_len):
        """`(body, max_tokens)` under the context limit, by the rule every
        backend uses (base.fit_to_context): the answer reserves at most half
        of the context, the prompt is cut from the left (or fails, per
        policy) to the rest, and max_tokens is what the prompt leaves, up to
        max_out_len."""
        limit = self.context_limit
        if not limit or self.tokenizer is None:
            if limit and self.prompt_overflow == 'truncate':
                self._warn_once('notok', 'no tokenizer_path: prompts are not '
                                'counted, so overlong ones fail instead of being '
                                'truncated; pass tokenizer_path to cut them')
            return body, max_out_len
        reserve = min(max_out_len, limit // 2)
        budget = limit - reserve
        count = self._count(body)
        if count > budget:
            if budget < 1 or self.prompt_overflow == 'error':
                raise PromptTooLongError(count, limit,
                                         f'{reserve} tokens reserved for the answer')
            body = self._truncate(body, budget, count)
            self.truncated += 1
            count = self._count(body)
        return body, max(1, min(max_out_len, limit - count))

    def _truncate(self, body, budget, count):
        """Drop tokens from the left (the question's end is kept), re-counting
        since decode/encode and chat templates do not round-trip exactly."""
        tok = self.tokenizer
        for _ in range(4):
            excess = count - budget
            if 'prompt' in body:
                ids = tok.encode(body['prompt'], add_special_tokens=False)
                body = {'prompt': tok.decode(ids[excess + 1:])}
            else:
                body = {'messages': self._cut_messages(body['messages'], excess)}
            count = self._count(body)
            if count <= budget:
                return body
        raise PromptTooLongError(count, self.context_limit,
                                 'still too long after cutting from the left')

    def _cut_messages(self, messages, excess):
        """Cut `excess` tokens from the earliest message contents; emptied
        messages stay (with '') so roles keep alternating for the template."""
        tok, out = self.tokenizer, []
        for msg in messages:
            if excess > 0 and msg['content']:
                ids = tok.encode(msg['content'], add_special_tokens=False)
                drop = min(len(ids), excess + 1)
                excess -= drop
                msg = dict(msg, content=tok.decode(ids[drop:]))
            out.append(msg)
        return out
