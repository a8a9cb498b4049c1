"""Tiny multiple-choice data in the OpenCompass layout, written for the tests
(original questions), so every loader runs without the shared data folder."""
import csv
import json

MMLU = {
    'astronomy': [
        ('Which planet is closest to the Sun?', 'Venus', 'Mercury', 'Mars',
         'Earth', 'B'),
        ('What is the Moon?', 'A star', 'A comet', 'A natural satellite',
         'A planet', 'C'),
        ('What makes stars shine?', 'Nuclear fusion', 'Burning coal',
         'Reflected light', 'Friction', 'A'),
        ('What is a light-year a measure of?', 'Time', 'Distance', 'Speed',
         'Brightness', 'B'),
        ('Which planet has the most prominent rings?', 'Mars', 'Venus',
         'Saturn', 'Mercury', 'C'),
    ],
    'anatomy': [
        ('How many chambers does the human heart have?', 'Two', 'Three',
         'Four', 'Five', 'C'),
        ('Which organ filters blood to make urine?', 'Liver', 'Kidney',
         'Lung', 'Stomach', 'B'),
        ('Where is the femur?', 'Arm', 'Skull', 'Chest', 'Thigh', 'D'),
        ('Which blood cells carry oxygen?', 'Red blood cells', 'Platelets',
         'White blood cells', 'Plasma cells', 'A'),
        ('What protects the brain?', 'The ribs', 'The pelvis', 'The skull',
         'The spine', 'C'),
    ],
}

ARC = [
    {'id': 'q1', 'question': {'stem': 'Which of these is a liquid at room '
                              'temperature?', 'choices': [
                                  {'text': 'iron', 'label': 'A'},
                                  {'text': 'water', 'label': 'B'},
                                  {'text': 'salt', 'label': 'C'},
                                  {'text': 'sand', 'label': 'D'}]},
     'answerKey': 'B'},
    {'id': 'q2', 'question': {'stem': 'What do plants need to make food?',
                              'choices': [{'text': 'darkness', 'label': '1'},
                                          {'text': 'sunlight', 'label': '2'},
                                          {'text': 'plastic', 'label': '3'},
                                          {'text': 'noise', 'label': '4'}]},
     'answerKey': '2'},
    {'id': 'q3', 'question': {'stem': 'A three-option question is dropped.',
                              'choices': [{'text': 'a', 'label': 'A'},
                                          {'text': 'b', 'label': 'B'},
                                          {'text': 'c', 'label': 'C'}]},
     'answerKey': 'A'},
    {'id': 'q4', 'question': {'stem': 'What pulls objects toward the Earth?',
                              'choices': [{'text': 'magnetism', 'label': 'A'},
                                          {'text': 'wind', 'label': 'B'},
                                          {'text': 'gravity', 'label': 'C'},
                                          {'text': 'light', 'label': 'D'}]},
     'answerKey': 'C'},
]


def write_mmlu(root):
    """<root>/data/mmlu/{dev,test}/<subject>_<split>.csv"""
    for split in ('dev', 'test'):
        folder = root / 'data' / 'mmlu' / split
        folder.mkdir(parents=True, exist_ok=True)
        for subject, rows in MMLU.items():
            with open(folder / f'{subject}_{split}.csv', 'w', newline='',
                      encoding='utf-8') as f:
                csv.writer(f).writerows(rows)
    return root / 'data' / 'mmlu'


def write_arc(root):
    """<root>/data/ARC/ARC-{c,e}/ARC-{Challenge,Easy}-{Dev,Test}.jsonl"""
    for sub, name in (('ARC-c', 'Challenge'), ('ARC-e', 'Easy')):
        folder = root / 'data' / 'ARC' / sub
        folder.mkdir(parents=True, exist_ok=True)
        for split in ('Dev', 'Test'):
            with open(folder / f'ARC-{name}-{split}.jsonl', 'w') as f:
                f.writelines(json.dumps(r) + '\n' for r in ARC)
    return root / 'data' / 'ARC'
