"""The HF models on the embedded SmolLM2-135M-Instruct (real weights, CPU)."""
import pytest

from opencompass.models.base import cut_at_stop, sort_by_length

EMBEDDED = 'embedded://smollm2-135m-instruct'
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def chat():
    from opencompass.models.huggingface import HuggingFacewithChatTemplate
    return HuggingFacewithChatTemplate(EMBEDDED, max_seq_len=2048)


@pytest.fixture(scope='module')
def base():
    from opencompass.models.huggingface import HuggingFaceBaseModel
    return HuggingFaceBaseModel(EMBEDDED)


def _q(text):
    return [{'role': 'HUMAN', 'prompt': text}]


def test_helpers():
    assert cut_at_stop('a b STOP c', ['STOP', 'c']) == 'a b '
    assert sort_by_length(['aa', 'a', 'aaa']) == [2, 0, 1]


def test_chat_generate_keeps_input_order_and_counts_tokens(chat):
    prompts = [_q('What is 2 + 3?'), _q('Name a colour.'),
               _q('Write the number ten in digits.')]
    gens = dict(chat.generate_iter(prompts, 24, batch_size=2))
    assert sorted(gens) == [0, 1, 2]
    assert all(g.text.strip() and 0 < g.out_tokens <= 24 for g in gens.values())
    assert '5' in gens[0].text
    assert chat.generate(prompts, 24) == [gens[i].text for i in range(3)]
    assert '<|im_end|>' in chat.stop_words


def test_pruning_decoder_matches_model_generate(chat):
    """Greedy decoding with finished rows dropped gives the same tokens as
    transformers' own generate."""
    from opencompass.models._decode import greedy_decode, hf_generate
    ids = [chat.encode(_q(q)) for q in ('Count to five.', 'What is 7 * 6?',
                                         'Say hi.')]
    eos = chat.eos_ids()
    assert greedy_decode(chat.model, chat.tokenizer, ids, 20, eos, []) == \
        hf_generate(chat, ids, 20, eos, [], {})


def test_continuous_batching_matches_one_by_one(chat):
    """Rows joining and leaving a running batch decode exactly as they would
    alone."""
    from opencompass.models._decode import greedy_stream, hf_generate
    ids = [chat.encode(_q(q)) for q in ('Hi!', 'What is 12 + 30? Explain.',
                                         'Name three fruits.', 'Say yes.')]
    eos = chat.eos_ids()
    streamed = dict(greedy_stream(chat.model, chat.tokenizer, ids, 16, eos, [], 2))
    alone = [hf_generate(chat, [x], 16, eos, [], {})[0] for x in ids]
    assert [streamed[i] for i in range(4)] == alone


def test_stop_words_cut_as_tokens_arrive(chat):
    free = chat.generate([_q('Count from 1 to 10, separated by commas.')], 30)[0]
    assert '4' in free
    cut = chat.generate([_q('Count from 1 to 10, separated by commas.')], 30,
                        stopping_criteria=['4'])[0]
    assert '4' not in cut and free.startswith(cut)


def test_long_prompts_are_cut_from_the_left_and_counted(chat, caplog):
    from opencompass.models.huggingface import HuggingFacewithChatTemplate
    small = HuggingFacewithChatTemplate(EMBEDDED, max_seq_len=32)
    ids = small.encode(_q('word ' * 200 + 'END'))
    assert len(ids) == 32 and small.truncated == 1
    small.report_truncation()
    assert 'max_seq_len=32' in caplog.text and small.truncated == 0


@pytest.mark.parametrize('max_out, kept, cap', [(8, 24, 8), (40, 16, 16)])
def test_prompt_and_output_fit_the_context_as_on_every_backend(max_out, kept,
                                                               cap):
    """#3: the rule of base.fit_to_context, shared with the engines."""
    from opencompass.models.huggingface import HuggingFacewithChatTemplate
    small = HuggingFacewithChatTemplate(EMBEDDED, max_seq_len=32,
                                        tokenizer_only=True)
    ids, new = small.fit(_q('word ' * 200 + 'END'), max_out)
    assert (len(ids), new) == (kept, cap) and small.truncated == 1


def test_base_model_flattens_with_meta_template(base):
    from opencompass.models.huggingface import HuggingFaceBaseModel
    meta = dict(round=[dict(role='HUMAN', begin='Q: ', end='\n'),
                       dict(role='BOT', begin='A:', generate=True)])
    m = HuggingFaceBaseModel(EMBEDDED, meta_template=meta, tokenizer_only=True)
    assert m.render(_q('hi') + [{'role': 'BOT', 'prompt': ''}]) == 'Q: hi\nA:'
    out = base.generate(['The capital of France is'], 8)[0]
    assert 'Paris' in out


@pytest.mark.parametrize('cls', ['HuggingFacewithChatTemplate',
                                 'HuggingFaceBaseModel'])
def test_fastchat_template_renders_its_format_like_every_backend(cls):
    """-a hf renders a named FastChat format with the same meta_template the
    converters give the engines (opencompass/utils/fastchat_templates.py)."""
    from opencompass.models import huggingface
    m = getattr(huggingface, cls)(EMBEDDED, fastchat_template='llama-2',
                                  tokenizer_only=True)
    assert not m.is_chat
    assert m.render(_q('hi') + [{'role': 'BOT', 'prompt': ''}]) == (
        '[INST] hi [/INST]')
    assert '[INST]' in m.stop_words
    # special tokens added as for any base-model prompt (FastChat relies on
    # the tokenizer's BOS)
    assert m.encode(_q('hi')) == m.tokenizer('[INST] hi [/INST]')['input_ids']


def test_get_ppl_prefers_sensible_text_and_masks_context(base):
    good, bad = base.get_ppl(['The cat sat on the mat.',
                              'mat the on sat cat The.'])
    assert good < bad
    ctx = base.get_ppl(['Question: 2+2? Answer: 4'], mask_length=[6])[0]
    full = base.get_ppl(['Question: 2+2? Answer: 4'])[0]
    assert ctx != pytest.approx(full)


def test_sampling_kwargs_go_through_generate(chat):
    from opencompass.models.huggingface import HuggingFacewithChatTemplate
    m = HuggingFacewithChatTemplate(EMBEDDED,
                                    generation_kwargs=dict(do_sample=True,
                                                           top_k=5, temperature=0.7))
    assert m.generate([_q('Say hi.')], 8)[0].strip()
