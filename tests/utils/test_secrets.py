"""One redaction rule: secret-named fields at any depth, URL credentials, and
every secret value seen, wherever it shows up later."""
import logging

import pytest

from opencompass.utils import secrets
from opencompass.utils.secrets import RedactingFilter, redact, redact_text


@pytest.mark.parametrize('name', ['key', 'api_key', 'openai_api_key', 'hf_token',
                                  'password', 'Authorization', 'aws_secret_key',
                                  'db_password', 'secret'])
def test_secret_names(name):
    assert secrets.is_secret_name(name)


@pytest.mark.parametrize('name', ['max_seq_len', 'eos_token', 'pad_token',
                                  'path', 'keywords', 'max_token', 'sort_keys'])
def test_not_secret_names(name):
    assert not secrets.is_secret_name(name)


def test_nested_dataset_level_key_and_url_credentials():
    cfg = {'datasets': [{'eval_cfg': {'evaluator': {'judge_cfg': {
        'api_key': 'sk-judge-0123456789', 'openai_api_base':
        'http://bob:hunter22@10.0.0.1:8000/v1', 'key': 'ENV'}}}}]}
    out = redact(cfg)
    judge = out['datasets'][0]['eval_cfg']['evaluator']['judge_cfg']
    assert judge['api_key'] == '***' and judge['key'] == 'ENV'
    assert judge['openai_api_base'] == 'http://***@10.0.0.1:8000/v1'
    assert 'hunter22' not in repr(out) and 'sk-judge' not in repr(out)
    assert cfg['datasets'][0]['eval_cfg']['evaluator']['judge_cfg'][
        'api_key'] == 'sk-judge-0123456789'  # the input is untouched


def test_a_seen_value_is_hidden_everywhere_later():
    redact({'token': 'plain-value-42'})
    assert redact_text('server said: bad token plain-value-42 (401)') == \
        'server said: bad token *** (401)'


def test_log_records_are_redacted_in_every_handler(caplog):
    secrets.remember('very-secret-xyz')
    handler = logging.StreamHandler()
    filt = RedactingFilter()
    record = logging.LogRecord('t', logging.INFO, __file__, 1,
                               'calling %s with %s', ('http://u:p@h/v1',
                                                      'very-secret-xyz'), None)
    assert filt.filter(record)
    assert handler.format(record) == 'calling http://***@h/v1 with ***'
