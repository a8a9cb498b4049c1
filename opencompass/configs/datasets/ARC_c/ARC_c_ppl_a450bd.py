from opencompass.datasets import ARCDataset
from opencompass.openicl.icl_evaluator import AccEvaluator
from opencompass.openicl.icl_inferencer import PPLInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

# ARC (ARC-Challenge) by perplexity, zero-shot (base models): the question followed by
# each option's text is scored; the most likely option is the answer.
ARC_c_reader_cfg = dict(
    input_columns=['question', 'textA', 'textB', 'textC', 'textD'],
    output_column='answerKey')

ARC_c_infer_cfg = dict(
    prompt_template=dict(
        type=PromptTemplate,
        template={
            letter: dict(round=[
                dict(role='HUMAN', prompt='Question: {question}\nAnswer: '),
                dict(role='BOT', prompt='{text%s}' % letter),
            ])
            for letter in 'ABCD'
        }),
    retriever=dict(type=ZeroRetriever),
    inferencer=dict(type=PPLInferencer),
)

ARC_c_eval_cfg = dict(evaluator=dict(type=AccEvaluator))

ARC_c_datasets = [
    dict(abbr='ARC-c', type=ARCDataset, path='opencompass/ai2_arc-dev', name='ARC-Challenge',
         reader_cfg=ARC_c_reader_cfg, infer_cfg=ARC_c_infer_cfg,
         eval_cfg=ARC_c_eval_cfg)
]
