"""Prompts as they travel from a template to a model.

A rendered prompt is either a plain string or a list of rounds
``[{'role': 'HUMAN'|'BOT'|'SYSTEM', 'prompt': str}, ...]``. Base models flatten the
rounds with their meta_template; chat models turn them into chat messages.
"""

ROLE_TO_CHAT = {'HUMAN': 'user', 'BOT': 'assistant', 'SYSTEM': 'system'}


class PromptList(list):
    """A list of rounds (dicts with role/prompt) and plain strings."""

    def __str__(self):
        return '\n'.join(
            item if isinstance(item, str) else item.get('prompt', '')
            for item in self)


def is_rounds(prompt):
    return isinstance(prompt, list)


def to_messages(prompt):
    """Rounds -> OpenAI-style chat messages; a trailing empty BOT round is the
    generation point and is dropped. A plain string becomes one user message."""
    if isinstance(prompt, str):
        return [{'role': 'user', 'content': prompt}]
    messages = []
    for item in prompt:
        if isinstance(item, str):
            messages.append({'role': 'user', 'content': item})
            continue
        if 'section' in item and 'role' not in item:
            continue
        role = ROLE_TO_CHAT.get(item['role'], item['role'].lower())
        messages.append({'role': role, 'content': item.get('prompt', '')})
    while messages and messages[-1]['role'] == 'assistant' and not messages[-1][
            'content']:
        messages.pop()
    return messages


def flatten(prompt, meta_template=None):
    """Rounds -> one string for a base model.

    Without a meta_template the prompts are joined with newlines (as OpenCompass
    does). With one, each round is wrapped in its role's `begin`/`end`; the
    generation round (``generate=True``) contributes only its `begin` and ends
    the prompt.
    """
    if isinstance(prompt, str):
        return prompt
    if not meta_template:
        parts = [item if isinstance(item, str) else item.get('prompt', '')
                 for item in prompt]
        return '\n'.join(p for p in parts if p)
    roles = {r['role']: r for r in meta_template.get('round', [])}
    roles.update({r['role']: r for r in meta_template.get('reserved_roles', [])})
    text = meta_template.get('begin', '') or ''
    for item in prompt:
        if isinstance(item, str):
            text += item
            continue
        spec = roles.get(item['role'], {})
        body = item.get('prompt', '')
        if spec.get('generate') and not body:
            return text + spec.get('begin', '')
        text += spec.get('begin', '') + body + spec.get('end', '')
    gen = next((r for r in meta_template.get('round', []) if r.get('generate')),
               None)
    if gen is not None:
        text += gen.get('begin', '')
    return text
