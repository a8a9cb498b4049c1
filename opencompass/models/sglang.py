"""SGLang backend: `SGLang` (base) and `SGLangwithChatTemplate` on SGLang's
offline engine (`sglang.Engine`, `Engine.generate`, `Engine.shutdown`).

sglang is imported when a model is built, never at module import. Prompts are
rendered here and sent as token ids (`input_ids`), so a long prompt can be cut
from the left and a chat template's BOS is not added twice. Decoding is greedy
(temperature 0, sent explicitly: SGLang's default is 1.0) unless the config
asks for sampling.

Supported: SGLang 0.5.23 (requirements/sglang.txt); the API used here is
checked against the contract extracted from that release
(tests/engine_standins/). SGLang refuses a request whose input plus
max_new_tokens exceeds the context (tokenizer_manager.py), so each prompt gets
its own output cap (base.fit_to_context).
"""
from opencompass.models import _engine_utils
from opencompass.models._engine_utils import (EngineModel, clamp_context,
                                              import_engine, local_path)
from opencompass.models.base import Generation


class SGLang(EngineModel):
    """A base model on SGLang's offline engine."""

    engine = ('sglang', 'sglang')

    def __init__(self, path, max_seq_len=2048, model_kwargs=None,
                 generation_kwargs=None, meta_template=None, end_str=None,
                 stop_words=None, tokenizer_only=False, tokenizer_path=None,
                 tokenizer_kwargs=None):
        super().__init__(path, max_seq_len=max_seq_len,
                         meta_template=meta_template,
                         generation_kwargs=generation_kwargs,
                         stop_words=stop_words, end_str=end_str,
                         tokenizer_only=tokenizer_only)
        self.model_kwargs = dict(model_kwargs or {})
        self.tokenizer_path = tokenizer_path
        tok_kwargs = dict(tokenizer_kwargs or {})
        if self.model_kwargs.get('trust_remote_code'):
            tok_kwargs.setdefault('trust_remote_code', True)
        self.tokenizer = _engine_utils.load_hf_tokenizer(
            tokenizer_path or path, **tok_kwargs)
        self.engine = None
        if not tokenizer_only:
            self._build()

    def _build(self):
        sglang = import_engine('sglang', 'sglang')
        kwargs = dict(self.model_kwargs)
        if self.tokenizer_path:
            kwargs.setdefault('tokenizer_path',
                              local_path(self.tokenizer_path))
        if kwargs.get('context_length'):
            kwargs['context_length'] = clamp_context(
                self, kwargs['context_length'], 'context_length',
                kwargs.get('revision'))
        self.engine = sglang.Engine(model_path=local_path(self.path),
                                    **kwargs)

    def sampling_params(self, max_out_len, stops):
        """Greedy unless generation_kwargs say otherwise; max_out_len caps the
        output as in the HF backend."""
        params = {'temperature': 0.0, **self.generation_kwargs,
                  'max_new_tokens': max_out_len}
        if stops:
            params['stop'] = stops
        return params

    def generate_batch(self, inputs, max_out_len, **kwargs):
        stops = self.stops(kwargs)
        fitted = self.prompt_ids(inputs, max_out_len)
        outputs = self.engine.generate(
            input_ids=[ids for ids, _ in fitted],
            sampling_params=[self.sampling_params(max_new, stops)
                             for _, max_new in fitted])
        return [Generation(text=self.postprocess(o['text'], stops),
                           out_tokens=o.get('meta_info', {}).get(
                               'completion_tokens'))
                for o in outputs]

    def get_ppl(self, inputs, mask_length=None):
        """Mean negative log-likelihood per prompt token, from the engine's
        input-token logprobs (`return_logprob`, `logprob_start_len=0`, one new
        token). The first token has no logprob; `mask_length[i]` tokens of
        context are left out, so only the continuation is scored."""
        ids_list, masks = [], []
        for i, prompt in enumerate(inputs):
            ids = self.encode(prompt)
            kept, _ = self.fit(ids, 1)
            ids_list.append(kept)
            masks.append(max(1, (mask_length[i] if mask_length else 0)
                             - (len(ids) - len(kept))))
        outputs = self.engine.generate(
            input_ids=ids_list, return_logprob=True, logprob_start_len=0,
            sampling_params={'temperature': 0.0, 'max_new_tokens': 1})
        return [_mean_nll(o['meta_info']['input_token_logprobs'], start)
                for o, start in zip(outputs, masks)]

    def close(self):
        """Shut the engine's scheduler and detokenizer processes down."""
        if self.engine is not None:
            self.engine.shutdown()
        self.engine = None


def _mean_nll(token_logprobs, start):
    """`token_logprobs`: (logprob, token_id, text) per input token."""
    nll = [-lp for j, (lp, *_rest) in enumerate(token_logprobs)
           if j >= start and lp is not None]
    return sum(nll) / len(nll) if nll else float('nan')


class SGLangwithChatTemplate(SGLang):
    """A chat model on SGLang: messages go through the HF chat template."""

    is_chat = True
