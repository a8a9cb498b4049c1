"""Perplexity on the API path: mean negative log-likelihood per prompt from
the server's prompt logprobs (`/v1/completions` echo, or SGLang's native
`/generate` with `logprob_start_len=0`), refused where the engine does not
really score every prompt token (its `api_servers` strategy says which).
"""
from typing import List

from opencompass.errors import OpenCompassError, ServerError
from opencompass.models.api_transport import _Failure, _HTTPStatus, _import_client


class PromptScoring:
    """Mixed into OpenAISDK: needs `strategy`, `server_info`, `_setup()`,
    `_stream()`, `_with_retries()`, `_concurrency()`, `_desc()`, `_headers()`
    and `_redact()` from it."""

    def get_ppl(self, inputs, mask_length=None) -> List[float]:
        """Mean negative log-likelihood per prompt, from prompt logprobs where
        the engine really scores every prompt token; refused elsewhere."""
        if self.is_chat:
            raise OpenCompassError("perplexity needs mode='base' (a chat API "
                                   'does not score prompts)')
        self._setup()
        method = self.strategy.ppl_method
        if method is None:
            raise OpenCompassError(
                f'{self.strategy.label} cannot score perplexity: '
                f'{self.strategy.ppl_refusal}; use a generation (GenInferencer) '
                'dataset, or serve the model with vLLM or SGLang')
        texts = [self.to_text(p) for p in inputs]
        masks = list(mask_length or [0] * len(texts))
        score = self._score_sglang if method == 'sglang' else self._score_echo

        async def handler(client, i):
            lps = await self._with_retries(lambda: score(client, texts[i]))
            return _mean_nll(lps, masks[i])

        out = [None] * len(texts)
        try:
            for i, nll in self._stream(len(texts), handler, self._concurrency(1),
                                       self._raw_client, self._desc('ppl')):
                out[i] = nll
        except _Failure as exc:
            raise ServerError(self._redact(f'perplexity request failed: {exc}')) from None
        return out

    def _raw_client(self):
        httpx = _import_client('httpx')
        return httpx.AsyncClient(headers=self._headers(), timeout=self.timeout)

    async def _post(self, client, url, payload):
        resp = await client.post(url, json=payload)
        if resp.status_code != 200:
            raise _HTTPStatus(resp.status_code, resp.headers, resp.text)
        return resp.json()

    async def _score_echo(self, client, text):
        """/v1/completions echo+logprobs; the count must cover the whole prompt."""
        data = await self._post(client, self.openai_api_base + '/completions', {
            'model': self.path, 'prompt': text, 'max_tokens': 1, 'echo': True,
            'logprobs': 1, 'temperature': 0})
        choice = (data.get('choices') or [{}])[0]
        lps = (choice.get('logprobs') or {}).get('token_logprobs')
        prompt_tokens = (data.get('usage') or {}).get('prompt_tokens')
        return self._check_logprobs(lps, prompt_tokens)

    async def _score_sglang(self, client, text):
        """SGLang /generate with logprob_start_len=0 scores every input token."""
        data = await self._post(client, self.server_info.root + '/generate', {
            'text': text, 'return_logprob': True, 'logprob_start_len': 0,
            'sampling_params': {'max_new_tokens': 1, 'temperature': 0}})
        meta = data.get('meta_info') or {}
        lps = [item[0] if isinstance(item, (list, tuple)) else item
               for item in meta.get('input_token_logprobs') or []]
        return self._check_logprobs(lps, meta.get('prompt_tokens'))

    def _check_logprobs(self, lps, prompt_tokens):
        """Refuse unless there is one logprob per prompt token: a server that
        scores only generated tokens would put every answer at chance."""
        if not prompt_tokens or not isinstance(lps, list) or len(lps) < prompt_tokens:
            raise _Failure(
                f'{self.strategy.label} returned {len(lps or [])} logprobs for a '
                f'{prompt_tokens}-token prompt: it does not score prompt tokens, '
                'so perplexity would land at chance; use a GenInferencer dataset '
                "or pass server_type='vllm'/'sglang' if that is what serves it")
        lps = lps[:prompt_tokens]
        if any(lp is None for lp in lps[1:]):
            raise _Failure(f'{self.strategy.label} returned null prompt logprobs')
        return lps


def _mean_nll(lps, mask):
    """Mean -logprob over prompt tokens after the first `mask` (and the first
    token, which has no context)."""
    scored = [-lp for lp in lps[max(1, mask or 0):]]
    return sum(scored) / len(scored) if scored else float('nan')
