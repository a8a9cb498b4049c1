# MATH-500 (PRM800K split), 0-shot, graded by an LLM judge (GenericLLMEvaluator).
# The judge model comes from judge_cfg, the config's judge_models or the CLI
# (--judge-hf-path / --judge-api-base); see docs/en/advanced_guides/llm_judge.md.
from opencompass.datasets import MATHDataset, generic_llmjudge_postprocess
from opencompass.evaluator import GenericLLMEvaluator
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

math_reader_cfg = dict(input_columns=['problem'], output_column='solution')

math_infer_cfg = dict(
    prompt_template=dict(type=PromptTemplate, template=dict(round=[
        dict(role='HUMAN', prompt='{problem}\nRemember to put your final '
             'answer within \\boxed{}.'),
    ])),
    retriever=dict(type=ZeroRetriever),
    inferencer=dict(type=GenInferencer),
)

# The grading prompt, written here: the same task as OpenCompass's MATH judge
# configs give their judge (compare the final answer with the reference, not
# re-solve the problem; equivalent forms count; every part of a multi-part
# answer must match), with the same A / B answer format, so the verdict parser
# and the judged scores line up with theirs.
GRADER_TEMPLATE = """
You grade answers to math problems. Decide whether the candidate's final answer
agrees with the reference answer.

Rules:
1. Trust the reference answer; do not solve the problem yourself.
2. Judge the final answer only. Ignore \\boxed{} and other formatting, and
   accept any mathematically equivalent form (1/2 and 0.5, x+1 and 1+x, a
   description that means the same value).
3. When the answer has several parts (several blanks, several choices), every
   part must match for the answer to be correct.

Reply with a single letter, nothing else:
A: CORRECT
B: INCORRECT

<Original Question Begin>:
{problem}
<Original Question End>

<Gold Target Begin>:
{solution}
<Gold Target End>

<Predicted Answer Begin>:
{prediction}
<Predicted End>

Your grade (A or B):
""".strip()

math_judge_template = dict(type=PromptTemplate, template=dict(
    begin=[dict(role='SYSTEM', fallback_role='HUMAN',
                prompt="You are a helpful assistant who evaluates the "
                "correctness and quality of models' outputs.")],
    round=[dict(role='HUMAN', prompt=GRADER_TEMPLATE)],
))

math_eval_cfg = dict(
    evaluator=dict(
        type=GenericLLMEvaluator,
        prompt_template=math_judge_template,
        dataset_cfg=dict(type=MATHDataset, path='opencompass/math',
                         file_name='test_prm800k_500.json',
                         reader_cfg=math_reader_cfg),
        judge_cfg=dict(),  # filled from judge_models or the command line
        dict_postprocessor=dict(type=generic_llmjudge_postprocess),
    ),
    pred_role='BOT',
)

math_datasets = [
    dict(
        type=MATHDataset,
        abbr='math_prm800k_500-llmjudge',
        path='opencompass/math',
        file_name='test_prm800k_500.json',
        reader_cfg=math_reader_cfg,
        infer_cfg=math_infer_cfg,
        eval_cfg=math_eval_cfg,
        mode='singlescore',
    )
]
