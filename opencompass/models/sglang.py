"""SGLang backend: `SGLang` (base) and `SGLangwithChatTemplate` on SGLang's
offline engine (`sglang.Engine`, `Engine.generate`, `Engine.shutdown`).

sglang is imported when a model is built, never at module import. Prompts are
rendered here and sent as token ids (`input_ids`), so a long prompt can be cut
from the left and a chat template's BOS is not added twice. Decoding is greedy
(temperature 0, sent explicitly: SGLang's default is 1.0) unless the config
asks for sampling.
"""
from opencompass.models import _engine_utils
from opencompass.models._engine_utils import (EngineModel, import_engine,
                                              local_path)
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
        outputs = self.engine.generate(
            input_ids=self.prompt_ids(inputs, max_out_len),
            sampling_params=self.sampling_params(max_out_len,
                                                 self.stops(kwargs)))
        return [Generation(text=self.postprocess(o['text']),
                           out_tokens=o.get('meta_info', {}).get(
                               'completion_tokens'))
                for o in outputs]

    def close(self):
        """Shut the engine's scheduler and detokenizer processes down."""
        if self.engine is not None:
            self.engine.shutdown()
        self.engine = None


class SGLangwithChatTemplate(SGLang):
    """A chat model on SGLang: messages go through the HF chat template."""

    is_chat = True
