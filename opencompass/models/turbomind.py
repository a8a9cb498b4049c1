"""LMDeploy backend: `TurboMindModel` (base) and `TurboMindModelwithChatTemplate`
on `lmdeploy.pipeline` (TurboMind engine by default, PyTorch engine with
`backend='pytorch'`).

lmdeploy is imported when a model is built, never at module import. Prompts
are rendered here (meta_template, or the HF tokenizer's chat template) and sent
with `do_preprocess=False`, so LMDeploy's own chat templates never apply and
the prompt text is the one the HF backend would see.
"""
from opencompass.errors import OpenCompassError
from opencompass.models import _engine_utils
from opencompass.models._engine_utils import (EngineModel, import_engine,
                                              local_path)
from opencompass.models.base import Generation

# Greedy, as the HF backend: top_k=1, and a tiny temperature because older
# TurboMind releases divide by it.
GREEDY = {'top_k': 1, 'temperature': 1e-6}


class TurboMindModel(EngineModel):
    """A base model on LMDeploy."""

    engine = ('lmdeploy', 'lmdeploy')

    def __init__(self, path, engine_config=None, gen_config=None,
                 backend='turbomind', max_seq_len=2048, meta_template=None,
                 end_str=None, stop_words=None, tokenizer_only=False,
                 tokenizer_path=None, tokenizer_kwargs=None,
                 trust_remote_code=False):
        super().__init__(path, max_seq_len=max_seq_len,
                         meta_template=meta_template, stop_words=stop_words,
                         end_str=end_str, tokenizer_only=tokenizer_only)
        if backend not in ('turbomind', 'pytorch'):
            raise OpenCompassError(f'unknown LMDeploy backend {backend!r}; '
                                   "use 'turbomind' or 'pytorch'")
        self.backend = backend
        self.engine_config = dict(engine_config or {})
        gen_config = dict(gen_config or {})
        self.gen_config = gen_config if gen_config.get('do_sample') else {
            **GREEDY, **gen_config}
        self.trust_remote_code = trust_remote_code
        tok_kwargs = dict(tokenizer_kwargs or {})
        if trust_remote_code:
            tok_kwargs.setdefault('trust_remote_code', True)
        self.tokenizer = _engine_utils.load_hf_tokenizer(
            tokenizer_path or path, **tok_kwargs)
        self.pipe = None
        if not tokenizer_only:
            self._build()

    def _build(self):
        self._lmdeploy = import_engine('lmdeploy', 'lmdeploy')
        config_cls = (self._lmdeploy.TurbomindEngineConfig
                      if self.backend == 'turbomind' else
                      self._lmdeploy.PytorchEngineConfig)
        extra = {'trust_remote_code': True} if self.trust_remote_code else {}
        backend_config = config_cls(**self.engine_config)
        self.pipe = self._lmdeploy.pipeline(
            local_path(self.path), backend_config=backend_config,
            log_level='WARNING', **extra)

    def texts(self, inputs, max_out_len):
        """Rendered prompts; one too long is cut from the left (decoded back to
        text, as the pipeline takes text)."""
        out = []
        for prompt in inputs:
            text = self.render(prompt)
            ids = self.encode_text(text)
            kept = self.fit(ids, max_out_len)
            out.append(text if kept is ids else self.tokenizer.decode(kept))
        return out

    def generation_config(self, max_out_len, stops):
        cfg = {**self.gen_config, 'max_new_tokens': max_out_len}
        if stops:
            cfg['stop_words'] = stops
        return self._lmdeploy.GenerationConfig(**cfg)

    def generate_batch(self, inputs, max_out_len, **kwargs):
        gen_config = self.generation_config(max_out_len, self.stops(kwargs))
        responses = self.pipe(self.texts(inputs, max_out_len),
                              gen_config=gen_config, do_preprocess=False)
        return [Generation(text=self.postprocess(r.text),
                           out_tokens=r.generate_token_len)
                for r in responses]

    def close(self):
        """Stop the engine's threads and free its memory."""
        close = getattr(self.pipe, 'close', None)
        if callable(close):
            close()
        self.pipe = None


class TurboMindModelwithChatTemplate(TurboMindModel):
    """A chat model on LMDeploy: messages go through the HF chat template."""

    is_chat = True
