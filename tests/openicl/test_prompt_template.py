"""Template rendering for base and chat models, retrievers, and flattening."""
import pytest

from opencompass.errors import ConfigError
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever, ZeroRetriever
from opencompass.utils.prompt import flatten, to_messages

ROW = {'question': 'What is 2+3?', 'answer': '#### 5'}
QA = dict(round=[dict(role='HUMAN', prompt='Q: {question}'),
                 dict(role='BOT', prompt='{answer}')])


def test_string_template_keeps_other_braces():
    t = PromptTemplate('{question} Put it in \\boxed{}.')
    assert t.render(ROW) == 'What is 2+3? Put it in \\boxed{}.'


def test_rounds_blank_the_output_column_for_generation():
    rounds = PromptTemplate(QA).render(ROW, output_column='answer')
    assert rounds == [{'role': 'HUMAN', 'prompt': 'Q: What is 2+3?'},
                      {'role': 'BOT', 'prompt': ''}]


def test_begin_and_end_sections():
    t = PromptTemplate(dict(begin=[dict(role='SYSTEM', prompt='Be brief.')],
                            round=[dict(role='HUMAN', prompt='{question}')]))
    assert [r['role'] for r in t.render(ROW)] == ['SYSTEM', 'HUMAN']


def test_template_type_errors():
    with pytest.raises(ConfigError):
        PromptTemplate(['not', 'a', 'template'])


def test_flatten_without_meta_template_joins_with_newlines():
    rounds = PromptTemplate(QA).render(ROW, output_column='answer')
    assert flatten(rounds) == 'Q: What is 2+3?'


def test_flatten_with_meta_template_stops_at_generation_round():
    meta = dict(round=[dict(role='HUMAN', begin='<u>', end='</u>\n'),
                       dict(role='BOT', begin='<a>', end='</a>\n', generate=True)])
    rounds = PromptTemplate(QA).render(ROW, output_column='answer')
    assert flatten(rounds, meta) == '<u>Q: What is 2+3?</u>\n<a>'


def test_messages_drop_trailing_empty_bot():
    rounds = [{'role': 'SYSTEM', 'prompt': 's'}, {'role': 'HUMAN', 'prompt': 'h'},
              {'role': 'BOT', 'prompt': 'b'}, {'role': 'HUMAN', 'prompt': 'h2'},
              {'role': 'BOT', 'prompt': ''}]
    assert to_messages(rounds) == [
        {'role': 'system', 'content': 's'}, {'role': 'user', 'content': 'h'},
        {'role': 'assistant', 'content': 'b'}, {'role': 'user', 'content': 'h2'}]
    assert to_messages('plain') == [{'role': 'user', 'content': 'plain'}]


class _DS:
    train = [{'question': f'q{i}', 'answer': f'a{i}'} for i in range(5)]
    test = [ROW, ROW]


def test_fixk_retriever_builds_rounds_in_order():
    ice_t = PromptTemplate(QA)
    r = FixKRetriever(fix_id_list=[2, 0])
    ids = r.retrieve(_DS)
    assert ids == [[2, 0], [2, 0]]
    ice = r.build_ice(ids[0], _DS.train, ice_t)
    assert [x['prompt'] for x in ice] == ['Q: q2', 'a2', 'Q: q0', 'a0']
    prompt = PromptTemplate(dict(begin='</E>', round=QA['round']),
                            ice_token='</E>').render(ROW, ice, 'answer')
    assert [x['prompt'] for x in prompt] == ['Q: q2', 'a2', 'Q: q0', 'a0',
                                             'Q: What is 2+3?', '']


def test_fixk_string_examples_and_range_check():
    r = FixKRetriever(fix_id_list=[1])
    assert r.build_ice([1], _DS.train, PromptTemplate('{question}={answer}')) == \
        'q1=a1\n'
    with pytest.raises(ConfigError, match='out of range'):
        FixKRetriever(fix_id_list=[9]).retrieve(_DS)


def test_zero_retriever():
    assert ZeroRetriever().retrieve(_DS) == [[], []]


def test_templates_keyed_by_label_for_perplexity():
    t = PromptTemplate({o: f'</E>{{question}} Answer: {o}' for o in 'AB'},
                       ice_token='</E>')
    assert t.labels == ['A', 'B'] and not t.is_rounds
    assert t.render(ROW, ice='Q0 Answer: B\n', label='B') == \
        'Q0 Answer: B\nWhat is 2+3? Answer: B'
    with pytest.raises(ConfigError, match='needs a PPLInferencer'):
        t.render(ROW)
    numeric = PromptTemplate({0: 'zero {question}', 1: 'one {question}'})
    assert numeric.render(ROW, label='1') == 'one What is 2+3?'


def test_label_keyed_ice_shows_each_example_with_its_gold():
    ice = PromptTemplate({o: f'{{question}} Answer: {o}' for o in 'AB'})
    train = [{'question': 'x?', 'target': 'B'}, {'question': 'y?',
                                                  'target': 'A'}]
    text = FixKRetriever(fix_id_list=[0, 1]).build_ice([0, 1], train, ice,
                                                       'target')
    assert text == 'x? Answer: B\ny? Answer: A\n'


def test_generation_point_is_where_the_output_column_is_shown():
    t = PromptTemplate(dict(round=[
        dict(role='HUMAN', prompt='{question}'),
        dict(role='BOT', prompt='Answer: {answer}\n'),
        dict(role='HUMAN', prompt='never rendered')]))
    assert t.render(ROW, output_column='answer') == [
        {'role': 'HUMAN', 'prompt': 'What is 2+3?'},
        {'role': 'BOT', 'prompt': 'Answer: '}]
