"""Perplexity with a shared prompt read once: the split into prefix and
suffixes, the packing by length, and equality with scoring each text alone."""
import pytest

from opencompass.models._ppl import common_prefix, pack, split_units

EMBEDDED = 'embedded://smollm2-135m-instruct'


def test_common_prefix_and_units():
    assert common_prefix([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    units = split_units([[[1, 2, 3, 4], [1, 2, 3, 5, 6]],  # shares [1, 2, 3]
                         [[7, 8], [9, 8]],                 # shares nothing
                         [[5]]])                           # nothing to score
    assert units[0] == ([1, 2, 3], [[4], [5, 6]], [(0, 0), (0, 1)])
    assert units[1:] == [([7], [[8]], [(1, 0)]), ([9], [[8]], [(1, 1)])]


def test_an_option_equal_to_the_prefix_keeps_one_token():
    (prefix, suffixes, _), = split_units([[[1, 2, 3], [1, 2, 3, 4]]])
    assert prefix == [1, 2] and suffixes == [[3], [3, 4]]


def test_pack_longest_first_within_budget():
    units = [([0] * n, [[1]], []) for n in (3, 10, 5, 9, 4)]
    batches = pack(units, max_tokens=20)
    assert [[len(units[u][0]) for u in b] for b in batches] == [
        [10, 9], [5, 4, 3]]
    assert pack(units, max_tokens=1000, max_units=2) == [[1, 3], [2, 4], [0]]


@pytest.mark.slow
def test_grouped_equals_each_text_alone(monkeypatch):
    from opencompass.models.huggingface import HuggingFaceBaseModel
    model = HuggingFaceBaseModel(EMBEDDED)
    question = 'Question: Which gas do plants take in to make food?\nAnswer: '
    groups = [[question + o for o in ('oxygen', 'carbon dioxide', 'nitrogen',
                                      'a long answer with many more words')],
              ['The capital of France is Paris.', 'The capital of France is '
               'Rome.'], ['Hello world', 'Goodbye', 'x']]
    model.ppl_max_tokens = 40  # force several packed batches
    grouped = model.get_ppl_groups(groups)
    for group, scores in zip(groups, grouped):
        alone = [model.get_ppl([text], mask_length=[0])[0] for text in group]
        assert scores == pytest.approx(alone, rel=1e-4, abs=1e-4)
    assert grouped[0][1] < grouped[0][3]  # the right answer is likelier
    assert model.get_ppl(groups[1]) == pytest.approx(grouped[1], rel=1e-5)
    # A model whose cache cannot be re-indexed takes the one-pass-per-question
    # path, with the same scores.
    from opencompass.models import _decode
    monkeypatch.setattr(_decode, 'supports_streaming', lambda model: False)
    assert model.get_ppl_groups(groups[:2]) == [
        pytest.approx(g, rel=1e-4, abs=1e-4) for g in grouped[:2]]
