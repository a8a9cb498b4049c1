"""A scripted judge: a FaultServer whose answer is the verdict scripted for the
marker (P0, P1, ...) in the judge prompt, and the judge template upstream's
MATH configs use (shortened)."""
import re

TEMPLATE = (
    'Judge whether the candidate answer matches the gold answer.\n'
    'A: CORRECT\nB: INCORRECT\nJust return the letters "A" or "B".\n'
    '<Original Question Begin>: {problem} <Original Question End>\n'
    '<Gold Target Begin>: {solution} <Gold Target End>\n'
    '<Predicted Answer Begin>: {prediction} <Predicted End>')

PROMPT_TEMPLATE = dict(type='PromptTemplate', template=dict(
    begin=[dict(role='SYSTEM', fallback_role='HUMAN',
                prompt='You grade answers.')],
    round=[dict(role='HUMAN', prompt=TEMPLATE)]))


def verdicts(table, default='A'):
    """A FaultServer `answer` function: the verdict of the first marker of
    `table` (marker -> reply) found in the judge prompt."""
    def answer(text):
        found = re.search(r'<Original Question Begin>: (.*?) <Original', text,
                          re.S)
        question = found.group(1) if found else text
        for marker, reply in table.items():
            if re.search(rf'\b{re.escape(marker)}\b', question):
                return reply
        return default
    return answer


def api_judge(base, retry=0, **extra):
    return {**dict(type='OpenAISDK', abbr='scripted-judge', path='judge-model',
                   openai_api_base=base, key='EMPTY', retry=retry, batch_size=4,
                   max_out_len=8), **extra}
