"""LMDeploy backend: `TurboMindModel` (base) and `TurboMindModelwithChatTemplate`
on `lmdeploy.pipeline` (TurboMind engine by default, PyTorch engine with
`backend='pytorch'`).

lmdeploy is imported when a model is built, never at module import. Prompts
are rendered here (meta_template, or the HF tokenizer's chat template) and sent
with `do_preprocess=False`, so LMDeploy's own chat templates never apply and
the prompt text is the one the HF backend would see.

Supported: LMDeploy 0.16 (requirements/lmdeploy.txt); the API used here is
checked against the contract extracted from that release
(tests/engine_standins/). What that release does, and how this module copes
(lmdeploy/serve/core/async_engine.py, lmdeploy/pipeline.py):
- without `do_sample` the engine forces top_k=1, temperature=1 and
  repetition_penalty=1: greedy decoding with a penalty is sent as top-1
  sampling, which is greedy and keeps the penalty (`engine_gen_config`);
- a failed request is not raised but answered with finish_reason='error' and
  empty text: it becomes a failed sample with the engine's message;
- stop words longer than one token are ignored: every stop is cut here.
"""
from opencompass.errors import OpenCompassError
from opencompass.models import _engine_utils
from opencompass.models._engine_utils import (EngineModel, clamp_context,
                                              import_engine, local_path)
from opencompass.models.base import Generation

# Greedy, as the HF backend: top-1 of the logits.
GREEDY = {'do_sample': False, 'top_k': 1}


def engine_gen_config(gen_config):
    """The GenerationConfig keywords that decode as `gen_config` asks.

    Without do_sample LMDeploy resets repetition_penalty to 1 (and top_k,
    temperature); greedy decoding with a penalty is therefore sent as
    sampling from the top-1 token, which is the same argmax, penalty applied.
    """
    cfg = dict(gen_config)
    if cfg.get('do_sample'):
        return cfg
    cfg = {**GREEDY, **cfg, 'top_k': 1}
    cfg.pop('temperature', None)  # greedy: the engine ignores it
    if cfg.get('repetition_penalty', 1.0) != 1.0:
        cfg.update(do_sample=True, temperature=1.0)
    return cfg


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
        self.gen_config = engine_gen_config(gen_config or {})
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
        if self.engine_config.get('session_len'):
            self.engine_config['session_len'] = clamp_context(
                self, self.engine_config['session_len'], 'session_len',
                self.engine_config.get('revision'))
        backend_config = config_cls(**self.engine_config)
        self.pipe = self._lmdeploy.pipeline(
            local_path(self.path), backend_config=backend_config,
            log_level='WARNING', **extra)

    def texts(self, inputs, max_out_len):
        """[(text, max_new)]: rendered prompts, one too long cut from the left
        (decoded back to text, as the pipeline takes text)."""
        out = []
        for prompt in inputs:
            text = self.render(prompt)
            ids = self.encode_text(text)
            kept, max_new = self.fit(ids, max_out_len)
            out.append((text if len(kept) == len(ids) else
                        self.tokenizer.decode(kept), max_new))
        return out

    def generation_config(self, max_out_len, stops):
        cfg = {**self.gen_config, 'max_new_tokens': max_out_len}
        if stops:
            cfg['stop_words'] = stops
        return self._lmdeploy.GenerationConfig(**cfg)

    def generate_batch(self, inputs, max_out_len, **kwargs):
        stops = self.stops(kwargs)
        fitted = self.texts(inputs, max_out_len)
        responses = self.pipe(
            [text for text, _ in fitted],
            gen_config=[self.generation_config(max_new, stops)
                        for _, max_new in fitted],
            do_preprocess=False)
        return [_generation(r, self.postprocess(r.text, stops))
                for r in responses]

    def get_ppl(self, inputs, mask_length=None):
        """Mean negative log-likelihood per token, from the pipeline's
        perplexity API (`Pipeline.get_ppl`: the mean cross-entropy of every
        token after the first).

        With `mask_length[i]` context tokens left out, the continuation's mean
        follows from two means, as attention is causal:
        (ppl(all) * (n - 1) - ppl(context) * (m - 1)) / (n - m).
        """
        if self.engine_config.get('enable_prefix_caching'):
            raise OpenCompassError(
                'LMDeploy scores perplexity only with prefix caching off: '
                'remove enable_prefix_caching from engine_config')
        full, contexts = self._scoring_ids(inputs, mask_length)
        scores = self.pipe.get_ppl(full)
        context_scores = iter(self.pipe.get_ppl([c for c in contexts if c])
                              if any(contexts) else [])
        out = []
        for ids, context, score in zip(full, contexts, scores):
            if context is None:
                out.append(score)
                continue
            n, m = len(ids), len(context)
            out.append((score * (n - 1) - next(context_scores) * (m - 1))
                       / (n - m))
        return out

    def _scoring_ids(self, inputs, mask_length):
        """Each prompt's ids (cut from the left to fit) and its context ids
        (None when there is no context of 2+ tokens to take out)."""
        full, contexts = [], []
        for i, prompt in enumerate(inputs):
            uncut = self.encode(prompt)
            ids, _ = self.fit(uncut, 1)
            # the context shrinks by what the left cut removed
            cut = len(uncut) - len(ids)
            mask = (mask_length[i] if mask_length else 0) - cut
            full.append(ids)
            contexts.append(ids[:mask] if 1 < mask < len(ids) else None)
        return full, contexts

    def close(self):
        """Stop the engine's threads and free its memory."""
        close = getattr(self.pipe, 'close', None)
        if callable(close):
            close()
        self.pipe = None


def _generation(response, text):
    """A Response as a Generation; finish_reason 'error' is a failed sample
    (retried by -r), never an empty answer scored as wrong."""
    if response.finish_reason == 'error':
        message = getattr(response, 'error_message', None) or 'unknown error'
        return Generation(error=f'LMDeploy: {message}')
    return Generation(text=text, out_tokens=response.generate_token_len)


class TurboMindModelwithChatTemplate(TurboMindModel):
    """A chat model on LMDeploy: messages go through the HF chat template."""

    is_chat = True
