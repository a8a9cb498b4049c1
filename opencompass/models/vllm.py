"""vLLM backend: `VLLM` (base) and `VLLMwithChatTemplate` on `vllm.LLM`.

vllm is imported when a model is built, never at module import. Prompts are
sent as token ids (the tokenizer is vLLM's own): that lets a long prompt be cut
from the left instead of failing its batch, and keeps a chat template's BOS
from being added twice. Decoding is greedy (temperature 0, sent explicitly:
vLLM's default is 1.0) unless the config asks for sampling.

Supported: vLLM 0.33 (requirements/vllm.txt); the API used here is checked
against the contract extracted from that release (tests/engine_standins/).
"""
import gc

from opencompass.errors import OpenCompassError
from opencompass.models import _engine_utils
from opencompass.models._engine_utils import (EngineModel, clamp_context,
                                              import_engine, local_path)
from opencompass.models.base import Generation

# `max_lora_rank` values vLLM accepts (vllm/config/lora.py, MaxLoRARanks; a
# test checks them against the pinned release's contract). Its default, 16,
# refuses any adapter of a larger rank.
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def lora_rank(adapter_path):
    """The rank `r` of a PEFT adapter (its adapter_config.json), or None."""
    config = _engine_utils.read_checkpoint_json(adapter_path,
                                                'adapter_config.json') or {}
    ranks = [config.get('r'), *(config.get('rank_pattern') or {}).values()]
    ranks = [r for r in ranks if isinstance(r, int)]
    return max(ranks) if ranks else None


def max_lora_rank_for(adapter_path):
    """The smallest rank vLLM accepts that holds the adapter, or None."""
    rank = lora_rank(adapter_path)
    if rank is None:
        return None
    fitting = [r for r in LORA_RANKS if r >= rank]
    if not fitting:
        raise OpenCompassError(
            f'LoRA adapter {adapter_path} has rank {rank}; vLLM loads ranks '
            f'up to {LORA_RANKS[-1]}: merge it into the weights or use -a hf')
    return fitting[0]


class VLLM(EngineModel):
    """A base model on vLLM; also scores perplexity through prompt logprobs."""

    engine = ('vllm', 'vllm')

    def __init__(self, path, max_seq_len=2048, model_kwargs=None,
                 generation_kwargs=None, meta_template=None, end_str=None,
                 stop_words=None, tokenizer_only=False, lora_path=None):
        super().__init__(path, max_seq_len=max_seq_len,
                         meta_template=meta_template,
                         generation_kwargs=generation_kwargs,
                         stop_words=stop_words, end_str=end_str,
                         tokenizer_only=tokenizer_only)
        self.model_kwargs = dict(model_kwargs or {})
        self.lora_path = lora_path
        self.model = None
        if tokenizer_only:
            self.tokenizer = _engine_utils.load_hf_tokenizer(
                self.model_kwargs.get('tokenizer', path),
                trust_remote_code=self.model_kwargs.get(
                    'trust_remote_code', False))
        else:
            self._build()

    def _build(self):
        self._vllm = import_engine('vllm', 'vllm')
        self.model = self._vllm.LLM(model=local_path(self.path),
                                    **self.engine_kwargs())
        self.tokenizer = self.model.get_tokenizer()

    def engine_kwargs(self):
        """`LLM(...)` keywords: the configured ones, plus what the project
        relies on (see each line)."""
        kwargs = dict(self.model_kwargs)
        if kwargs.get('tokenizer'):
            kwargs['tokenizer'] = local_path(kwargs['tokenizer'])
        # 'auto' switches repositories in Mistral's format to vLLM's Mistral
        # tokenizer, whose encode spells the chat template's special tokens
        # out as text (vllm/tokenizers/registry.py): prompts are rendered and
        # tokenized here the HF way, so the HF tokenizer is what they need.
        kwargs.setdefault('tokenizer_mode', 'hf')
        if kwargs.get('max_model_len'):
            kwargs['max_model_len'] = clamp_context(
                self, kwargs['max_model_len'], 'max_model_len',
                kwargs.get('revision'))
        if self.lora_path:
            kwargs.setdefault('enable_lora', True)
            rank = max_lora_rank_for(self.lora_path)
            if rank and rank > kwargs.get('max_lora_rank', 16):
                kwargs['max_lora_rank'] = rank
        return kwargs

    def _lora(self):
        """`lora_request=` for generate: the adapter, when one is configured."""
        if not self.lora_path:
            return {}
        request = import_engine('vllm.lora.request', 'vllm')
        return {'lora_request': request.LoRARequest('adapter', 1,
                                                    self.lora_path)}

    def sampling_params(self, max_out_len, stops):
        """Greedy unless generation_kwargs say otherwise; max_out_len caps the
        output as in the HF backend."""
        params = {'temperature': 0.0, **self.generation_kwargs,
                  'max_tokens': max_out_len}
        if stops:
            params['stop'] = stops
        return self._vllm.SamplingParams(**params)

    def generate_batch(self, inputs, max_out_len, **kwargs):
        stops = self.stops(kwargs)
        fitted = self.prompt_ids(inputs, max_out_len)
        prompts = [{'prompt_token_ids': ids} for ids, _ in fitted]
        params = [self.sampling_params(max_new, stops) for _, max_new in fitted]
        outputs = self.model.generate(prompts, params, use_tqdm=False,
                                      **self._lora())
        return [Generation(text=self.postprocess(o.outputs[0].text, stops),
                           out_tokens=len(o.outputs[0].token_ids))
                for o in outputs]

    def get_ppl(self, inputs, mask_length=None):
        """Mean negative log-likelihood per prompt token, from prompt logprobs.

        The first token has no logprob (nothing predicts it); `mask_length[i]`
        tokens of context are left out, so only the continuation is scored.
        A prompt too long for the context is cut from the left, and its mask
        with it.
        """
        ids_list, masks = [], []
        for i, prompt in enumerate(inputs):
            ids = self.encode(prompt)
            kept, _ = self.fit(ids, 1)  # room for the 1 generated token
            cut = len(ids) - len(kept)
            ids_list.append(kept)
            masks.append(max(1, (mask_length[i] if mask_length else 0) - cut))
        # vLLM 0.33 already defaults skip_reading_prefix_cache to True when
        # prompt_logprobs is set (a prefix-cache hit would return fewer
        # prompt logprobs; vllm/sampling_params.py): said explicitly so the
        # scores never depend on which prompt ran first.
        params = self._vllm.SamplingParams(temperature=0.0, max_tokens=1,
                                           prompt_logprobs=1,
                                           skip_reading_prefix_cache=True)
        outputs = self.model.generate(
            [{'prompt_token_ids': ids} for ids in ids_list], params,
            use_tqdm=False, **self._lora())
        return [_mean_nll(o.prompt_logprobs, o.prompt_token_ids, m)
                for o, m in zip(outputs, masks)]

    def close(self):
        """Drop the engine so its GPU memory can be freed."""
        self.model = None
        gc.collect()


def _mean_nll(logprobs, token_ids, start):
    nll = [-logprobs[j][tok].logprob for j, tok in enumerate(token_ids)
           if j >= start and logprobs[j] is not None]
    return sum(nll) / len(nll) if nll else float('nan')


class VLLMwithChatTemplate(VLLM):
    """A chat model on vLLM: prompts become messages and go through the
    tokenizer's chat template."""

    is_chat = True

    def __init__(self, path, max_seq_len=2048, model_kwargs=None,
                 generation_kwargs=None, stop_words=None, end_str=None,
                 tokenizer_only=False, lora_path=None, meta_template=None):
        super().__init__(path, max_seq_len=max_seq_len,
                         model_kwargs=model_kwargs,
                         generation_kwargs=generation_kwargs,
                         meta_template=meta_template, end_str=end_str,
                         stop_words=stop_words, tokenizer_only=tokenizer_only,
                         lora_path=lora_path)

    def get_ppl(self, inputs, mask_length=None):
        from opencompass.errors import ConfigError
        raise ConfigError(
            'VLLMwithChatTemplate does not score perplexity; use the base '
            'model (VLLM) for PPL datasets, or a _gen dataset config')
