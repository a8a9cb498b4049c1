from mmengine.config import read_base

from opencompass.datasets import MMLUDataset
from opencompass.openicl.icl_evaluator import AccwithDetailsEvaluator
from opencompass.openicl.icl_inferencer import PPLInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever

with read_base():
    from .mmlu_all_sets import mmlu_all_sets

# MMLU by perplexity, 5-shot from each subject's dev split (base models): the
# prompt is scored once per option letter, the most likely one is the answer.
# Data: 'opencompass/mmlu' = $COMPASS_DATA_CACHE/data/mmlu/{dev,test}/*.csv
mmlu_reader_cfg = dict(input_columns=['input', 'A', 'B', 'C', 'D'],
                       output_column='target', train_split='dev')

_question = '{input}\nA. {A}\nB. {B}\nC. {C}\nD. {D}'

mmlu_datasets = []
for _name in mmlu_all_sets:
    _hint = ('The following are multiple choice questions (with answers) '
             f'about  {_name.replace("_", " ")}.\n\n')
    mmlu_infer_cfg = dict(
        ice_template=dict(
            type=PromptTemplate,
            template={o: f'{_question}\nAnswer: {o}\n' for o in 'ABCD'}),
        prompt_template=dict(
            type=PromptTemplate,
            template={o: f'{_hint}</E>{_question}\nAnswer: {o}' for o in 'ABCD'},
            ice_token='</E>'),
        retriever=dict(type=FixKRetriever, fix_id_list=[0, 1, 2, 3, 4]),
        inferencer=dict(type=PPLInferencer),
    )
    mmlu_datasets.append(
        dict(abbr=f'lukaemon_mmlu_{_name}', type=MMLUDataset,
             path='opencompass/mmlu', name=_name, reader_cfg=mmlu_reader_cfg,
             infer_cfg=mmlu_infer_cfg,
             eval_cfg=dict(evaluator=dict(type=AccwithDetailsEvaluator))))

del _name, _hint
