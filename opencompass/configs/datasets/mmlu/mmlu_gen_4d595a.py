from mmengine.config import read_base

from opencompass.datasets import MMLUDataset
from opencompass.openicl.icl_evaluator import AccwithDetailsEvaluator
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever
from opencompass.utils.text_postprocessors import first_option_postprocess

with read_base():
    from .mmlu_all_sets import mmlu_all_sets

# MMLU by generation, 5-shot from each subject's dev split as chat rounds; the
# answer letter is taken from the reply.
mmlu_reader_cfg = dict(input_columns=['input', 'A', 'B', 'C', 'D'],
                       output_column='target', train_split='dev')

mmlu_datasets = []
for _name in mmlu_all_sets:
    _ask = (f'There is a single choice question about '
            f'{_name.replace("_", " ")}. Answer the question by replying A, B, '
            'C or D.\nQuestion: {input}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\n'
            'Answer: ')
    mmlu_infer_cfg = dict(
        ice_template=dict(type=PromptTemplate, template=dict(round=[
            dict(role='HUMAN', prompt=_ask),
            dict(role='BOT', prompt='{target}\n'),
        ])),
        prompt_template=dict(type=PromptTemplate, ice_token='</E>',
                             template=dict(begin='</E>', round=[
                                 dict(role='HUMAN', prompt=_ask),
                             ])),
        retriever=dict(type=FixKRetriever, fix_id_list=[0, 1, 2, 3, 4]),
        inferencer=dict(type=GenInferencer),
    )
    mmlu_eval_cfg = dict(
        evaluator=dict(type=AccwithDetailsEvaluator),
        pred_postprocessor=dict(type=first_option_postprocess, options='ABCD'))
    mmlu_datasets.append(
        dict(abbr=f'lukaemon_mmlu_{_name}', type=MMLUDataset,
             path='opencompass/mmlu', name=_name, reader_cfg=mmlu_reader_cfg,
             infer_cfg=mmlu_infer_cfg, eval_cfg=mmlu_eval_cfg))

del _name, _ask
