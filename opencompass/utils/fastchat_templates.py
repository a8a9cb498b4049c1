"""FastChat conversation formats as meta_templates.

OpenCompass HF configs may name a FastChat conversation format
(`fastchat_template='vicuna'`, or the older `use_fastchat_template=True`,
which meant vicuna) instead of using the tokenizer's chat template. The
formats below are those of FastChat 0.2.36 (fastchat/conversation.py:
vicuna_v1.1 / ADD_COLON_TWO, llama-2 / LLAMA2, the ChatML separator style),
written as meta_templates, so every backend renders them the same way with no
FastChat installed. The tokenizer adds BOS, as FastChat relies on.

Two approximations of FastChat, both where a meta_template has one `begin`
per role: an answer round (a few-shot example) follows 'ASSISTANT:' /
'[/INST]' with no space (FastChat adds one), so the generation prompt ends
exactly as FastChat's does; and a SYSTEM round is plain text for vicuna and
llama-2 (ChatML has its own system role).
"""
import copy

from opencompass.errors import OpenCompassError

_VICUNA_SYSTEM = ('A chat between a curious user and an artificial '
                  'intelligence assistant. The assistant gives helpful, '
                  "detailed, and polite answers to the user's questions.")

FASTCHAT_TEMPLATES = {
    # "{system} USER: {q} ASSISTANT: {a}</s>USER: {q} ASSISTANT:"
    'vicuna': dict(
        meta_template=dict(begin=_VICUNA_SYSTEM + ' ', round=[
            dict(role='HUMAN', begin='USER: ', end=' '),
            dict(role='BOT', begin='ASSISTANT:', end='</s>', generate=True)]),
        stop_words=['</s>', 'USER:']),
    # "[INST] {q} [/INST] {a} </s><s>[INST] {q} [/INST]"
    'llama-2': dict(
        meta_template=dict(round=[
            dict(role='HUMAN', begin='[INST] ', end=' '),
            dict(role='BOT', begin='[/INST]', end=' </s><s>', generate=True)]),
        stop_words=['</s>', '[INST]']),
    # "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"
    'chatml': dict(
        meta_template=dict(round=[
            dict(role='HUMAN', begin='<|im_start|>user\n', end='<|im_end|>\n'),
            dict(role='BOT', begin='<|im_start|>assistant\n',
                 end='<|im_end|>\n', generate=True)],
            reserved_roles=[dict(role='SYSTEM', begin='<|im_start|>system\n',
                                 end='<|im_end|>\n')]),
        stop_words=['<|im_end|>', '<|im_start|>']),
}
# FastChat's own names for the same formats
ALIASES = {'vicuna_v1.1': 'vicuna', 'llama2': 'llama-2'}


def fastchat_name(model):
    """The format a model dict names (None when it names none):
    `fastchat_template`, or 'vicuna' for `use_fastchat_template=True`."""
    name = model.get('fastchat_template')
    if not name and model.get('use_fastchat_template'):
        name = 'vicuna'
    return name or None


def fastchat_format(name):
    """{meta_template, stop_words} of a FastChat format name; an unknown name
    is a user error listing the known ones."""
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in FASTCHAT_TEMPLATES:
        raise OpenCompassError(
            f'unknown fastchat_template {name!r}; known formats: '
            f'{", ".join(FASTCHAT_TEMPLATES)}. Write the format as a '
            'meta_template instead')
    return copy.deepcopy(FASTCHAT_TEMPLATES[key])
