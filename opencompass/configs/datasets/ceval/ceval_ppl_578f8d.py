from mmengine.config import read_base

from opencompass.datasets import CEvalDataset
from opencompass.openicl.icl_evaluator import AccEvaluator
from opencompass.openicl.icl_inferencer import PPLInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever

with read_base():
    from .ceval_subjects import ceval_all_sets, ceval_subject_mapping

# C-Eval by perplexity, 5-shot from dev, scored on val (base models): the
# prompt ending in each option letter is scored, the most likely one wins.
ceval_datasets = []
for _name in ceval_all_sets:
    _ask = (f'以下是中国关于{ceval_subject_mapping[_name][1]}考试的单项选择题，'
            '请选出其中的正确答案。\n{question}\nA. {A}\nB. {B}\nC. {C}\n'
            'D. {D}\n答案: ')
    ceval_infer_cfg = dict(
        ice_template=dict(
            type=PromptTemplate,
            template={o: dict(begin='</E>', round=[
                dict(role='HUMAN', prompt=_ask),
                dict(role='BOT', prompt=o),
            ]) for o in 'ABCD'},
            ice_token='</E>'),
        retriever=dict(type=FixKRetriever, fix_id_list=[0, 1, 2, 3, 4]),
        inferencer=dict(type=PPLInferencer),
    )
    ceval_datasets.append(dict(
        type=CEvalDataset, path='opencompass/ceval-exam', name=_name,
        abbr='ceval-' + _name,
        reader_cfg=dict(input_columns=['question', 'A', 'B', 'C', 'D'],
                        output_column='answer', train_split='dev',
                        test_split='val'),
        infer_cfg=ceval_infer_cfg,
        eval_cfg=dict(evaluator=dict(type=AccEvaluator))))

del _name, _ask
