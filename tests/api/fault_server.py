"""A scriptable, fault-injecting OpenAI-compatible server on 127.0.0.1.

It impersonates each engine's answers (its `/v1/models` shape, native endpoints,
overflow error bodies from ../shared/SERVERS.md) and misbehaves on request:
prompts containing a marker get that marker's scripted actions, one per attempt,
then normal answers.

    with FaultServer(engine='vllm') as srv:
        srv.script('[q3]', '429:1', '500', 'ok')   # 3rd attempt succeeds
        ...
        assert srv.attempts('[q3]') == 3

Actions: 'ok', '429' / '429:SECONDS' (Retry-After), '500', '503', '400',
'drop' (connection closed without an answer), 'slow:SECONDS', and
'overflow:ENGINE' for ENGINE in vllm, vllm-max-tokens, vllm-decoder, sglang,
lmdeploy, lmdeploy-old, llama.cpp, llama-cpp-python.
"""
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENGINES = ('vllm', 'sglang', 'sglang-old', 'lmdeploy', 'llama.cpp',
           'llama-cpp-python', 'transformers', 'generic')


def _count(text):
    """The fake tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def overflow_answer(kind, prompt, limit, completion=16):
    """(status, body) of `kind`'s overflow answer, as SERVERS.md records it."""
    total = prompt + completion
    if kind == 'vllm':
        return 400, {'object': 'error', 'type': 'BadRequestError', 'param': None,
                     'code': 400, 'message': (
                         f"This model's maximum context length is {limit} tokens. "
                         f'However, you requested {total} tokens ({prompt} in the '
                         f'messages, {completion} in the completion). Please reduce '
                         'the length of the messages or completion.')}
    if kind == 'vllm-max-tokens':
        return 400, {'object': 'error', 'type': 'BadRequestError', 'code': 400,
                     'message': (
                         f"'max_tokens' or 'max_completion_tokens' is too large: "
                         f"{completion}. This model's maximum context length is "
                         f'{limit} tokens and your request has {prompt} input tokens '
                         f'({completion} > {limit} - {prompt}).')}
    if kind == 'vllm-decoder':
        return 400, {'object': 'error', 'type': 'BadRequestError', 'code': 400,
                     'message': (f'The decoder prompt (length {prompt}) is longer '
                                 f'than the maximum model length of {limit}.')}
    if kind == 'sglang':
        return 400, {'object': 'error', 'type': 'BadRequestError', 'code': 400,
                     'message': (f'The input ({prompt} tokens) is longer than the '
                                 f"model's context length ({limit} tokens).")}
    if kind == 'lmdeploy':
        return 400, {'object': 'error', 'type': 'invalid_request_error',
                     'code': 'context_length_exceeded', 'message': (
                         f'Input length ({prompt}) must be smaller than the model '
                         f'context length ({limit})')}
    if kind == 'llama.cpp':
        return 400, {'error': {
            'code': 400, 'type': 'exceed_context_size_error',
            'message': 'the request exceeds the available context size, try '
                       'increasing it', 'n_prompt_tokens': prompt, 'n_ctx': limit}}
    if kind == 'llama-cpp-python':
        return 400, {'error': {
            'type': 'invalid_request_error', 'param': 'messages',
            'code': 'context_length_exceeded', 'message': (
                f"This model's maximum context length is {limit} tokens, however "
                f'you requested {total} tokens ({prompt} in your prompt; '
                f'{completion} for the completion). Please reduce your prompt; or '
                'completion length.')}}
    raise ValueError(f'no overflow shape for {kind!r}')


class FaultServer:
    """The server; a context manager that runs it in a daemon thread."""

    def __init__(self, engine='vllm', models=('fake-model',), max_model_len=4096,
                 answer=None):
        assert engine in ENGINES, engine
        self.engine = engine
        self.models = list(models)
        self.max_model_len = max_model_len
        self.answer = answer or (lambda text: 'echo: ' + ' '.join(text.split()[-6:]))
        self.scripts = {}  # marker -> list of actions
        self.requests = []  # one dict per POST: path, marker, action, time, body
        self.gets = []  # paths of GET requests (probing)
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = None

    # ---- scripting -------------------------------------------------------
    def script(self, marker, *actions):
        with self.lock:
            self.scripts[marker] = list(actions)

    def attempts(self, marker):
        with self.lock:
            return sum(1 for r in self.requests if r['marker'] == marker)

    def times(self, marker):
        with self.lock:
            return [r['time'] for r in self.requests if r['marker'] == marker]

    def _next_action(self, text, path, body):
        with self.lock:
            marker = next((m for m in self.scripts if m in text), None)
            done = sum(1 for r in self.requests if r['marker'] == marker
                       and marker is not None)
            actions = self.scripts.get(marker, [])
            action = actions[done] if done < len(actions) else 'ok'
            self.requests.append({'path': path, 'marker': marker, 'action': action,
                                  'time': time.monotonic(), 'text': text,
                                  'body': body})
            return action

    def _enter(self, delta):
        with self.lock:
            self.in_flight += delta
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    # ---- lifecycle -------------------------------------------------------
    @property
    def base_url(self):
        return f'http://127.0.0.1:{self.httpd.server_address[1]}/v1'

    @property
    def root(self):
        return self.base_url[:-3]

    def __enter__(self):
        handler = type('Handler', (_Handler,), {'fault': self})
        self.httpd = _Server(('127.0.0.1', 0), handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={
            'poll_interval': 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- what each engine answers on GET ---------------------------------
    def model_list(self):
        entries = []
        for name in self.models:
            entry = {'id': name, 'object': 'model', 'created': 0}
            entry.update({
                'vllm': {'owned_by': 'vllm', 'root': name,
                         'max_model_len': self.max_model_len},
                'sglang': {'owned_by': 'sglang', 'root': name,
                           'max_model_len': self.max_model_len},
                'sglang-old': {'owned_by': 'sglang', 'root': name},
                'lmdeploy': {'owned_by': 'lmdeploy', 'root': name, 'permission': []},
                'llama.cpp': {'owned_by': 'llamacpp', 'meta': {
                    'n_ctx_train': 8 * self.max_model_len, 'n_vocab': 49152}},
                'llama-cpp-python': {'owned_by': 'me', 'permissions': []},
                'transformers': {'owned_by': 'local', 'status': {'value': 'loaded'}},
                'generic': {'owned_by': 'system'},
            }[self.engine])
            entries.append(entry)
        return {'object': 'list', 'data': entries}

    def native_get(self, path):
        if path == '/props' and self.engine == 'llama.cpp':
            return {'default_generation_settings': {'n_ctx': self.max_model_len},
                    'total_slots': 1}
        if path == '/get_server_info' and self.engine.startswith('sglang'):
            return {'context_length': self.max_model_len,
                    'max_req_input_len': self.max_model_len - 5}
        return None


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops concurrent SYNs (1 s stalls)
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    fault = None  # the FaultServer, set on the subclass

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        with self.fault.lock:
            self.fault.gets.append(self.path)
        if self.path == '/v1/models':
            return self._send(200, self.fault.model_list())
        if self.path == '/health':
            return self._send(200, {'status': 'ok'})
        body = self.fault.native_get(self.path)
        if body is None:
            return self._send(404, {'detail': 'Not Found'})
        return self._send(200, body)

    def do_POST(self):
        length = int(self.headers.get('Content-Length', 0))
        try:
            req = json.loads(self.rfile.read(length) or b'{}')
        except ValueError:
            return self._send(400, {'error': {'message': 'bad json'}})
        text = _request_text(req)
        action = self.fault._next_action(text, self.path, req)
        self.fault._enter(+1)
        try:
            if not self._misbehave(action, req, text):
                self._answer(req, text)
        finally:
            self.fault._enter(-1)

    def _misbehave(self, action, req, text):
        """Carry out a fault; True when the answer has been given (or refused)."""
        name, _, arg = action.partition(':')
        if name == 'ok':
            return False
        if name == 'slow':
            deadline = time.monotonic() + float(arg)
            while time.monotonic() < deadline and not self.fault.stopping.is_set():
                time.sleep(0.02)
            return False
        if name == 'drop':
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if name == '429':
            headers = {'Retry-After': arg} if arg else {}
            self._send(429, {'error': {'message': 'rate limited', 'code': 429}},
                       headers)
            return True
        if name in ('500', '503'):
            self._send(int(name), {'error': {'message': 'engine hiccup'}})
            return True
        if name == '400':
            self._send(400, {'error': {'message': arg or 'bad request: '
                                       + self.headers.get('Authorization', '')}})
            return True
        if name == 'overflow':
            return self._overflow(arg, req, text)
        raise ValueError(f'unknown action {action!r}')

    def _overflow(self, kind, req, text):
        if kind == 'lmdeploy-old':
            self._answer(req, text, empty_length=True)
            return True
        status, body = overflow_answer(kind, _count(text), self.fault.max_model_len,
                                       req.get('max_tokens') or 16)
        self._send(status, body)
        return True

    def _answer(self, req, text, empty_length=False):
        if self.path == '/generate':
            return self._send(200, _sglang_generate(req, text))
        answer = '' if empty_length else self.fault.answer(text)
        if self.fault.engine != 'transformers':  # it ignores `stop` (measured)
            for stop in req.get('stop') or []:
                answer = answer.split(stop)[0]
        usage = {'prompt_tokens': _count(text), 'completion_tokens': _count(answer)}
        usage['total_tokens'] = usage['prompt_tokens'] + usage['completion_tokens']
        finish = 'length' if empty_length else 'stop'
        if self.path.endswith('/chat/completions'):
            choice = {'index': 0, 'finish_reason': finish,
                      'message': {'role': 'assistant', 'content': answer}}
            obj = 'chat.completion'
        else:
            choice = {'index': 0, 'finish_reason': finish, 'text': answer,
                      'logprobs': _echo_logprobs(self.fault.engine, req, text)}
            obj = 'text_completion'
        self._send(200, {'id': 'x', 'object': obj, 'created': 0,
                         'model': req.get('model'), 'choices': [choice],
                         'usage': usage})


def _request_text(req):
    if 'messages' in req:
        return '\n'.join(str(m.get('content', '')) for m in req['messages'])
    return str(req.get('prompt') or req.get('text') or '')


def _echo_logprobs(engine, req, text):
    """vLLM scores every prompt token (first null) plus the generated one;
    llama.cpp only the generated one; others nothing. Each logprob is -1."""
    if not (req.get('echo') and req.get('logprobs') is not None):
        return None
    if engine == 'vllm':
        return {'token_logprobs': [None] + [-1.0] * _count(text)}
    if engine in ('llama.cpp', 'generic'):
        return {'token_logprobs': [-1.0]}
    return None


def _sglang_generate(req, text):
    n = _count(text)
    logprobs = [[None, 0, None]] + [[-1.0, i, None] for i in range(1, n)]
    return {'text': ' x', 'meta_info': {
        'prompt_tokens': n, 'completion_tokens': 1, 'finish_reason': {'type': 'length'},
        'input_token_logprobs': logprobs if req.get('return_logprob') else None}}


class WordTokenizer:
    """A stand-in tokenizer counting like this server: one token per word, so
    client-side counts and server-side counts agree in tests."""

    chat_template = 'role: content'

    def __init__(self):
        self.vocab, self.words = {}, []

    def encode(self, text, add_special_tokens=False):
        ids = []
        for word in text.split():
            if word not in self.vocab:
                self.vocab[word] = len(self.words)
                self.words.append(word)
            ids.append(self.vocab[word])
        return ids

    def decode(self, ids):
        return ' '.join(self.words[i] for i in ids)

    def apply_chat_template(self, messages, tokenize=False,
                            add_generation_prompt=True):
        text = '\n'.join(f"{m['role']}: {m['content']}" for m in messages)
        return text + ('\nassistant:' if add_generation_prompt else '')
