"""MMLU summary groups: the four categories of the MMLU paper, the naive
average over all 57 subjects (`mmlu`) and the average weighted by each
subject's number of test questions (`mmlu-weighted`). Dataset abbrs are
`lukaemon_mmlu_<subject>`, as the MMLU dataset configs name them."""

_categories = {
    'humanities': [
        'formal_logic', 'high_school_european_history',
        'high_school_us_history', 'high_school_world_history',
        'international_law', 'jurisprudence', 'logical_fallacies',
        'moral_disputes', 'moral_scenarios', 'philosophy', 'prehistory',
        'professional_law', 'world_religions',
    ],
    'stem': [
        'abstract_algebra', 'anatomy', 'astronomy', 'college_biology',
        'college_chemistry', 'college_computer_science', 'college_mathematics',
        'college_physics', 'computer_security', 'conceptual_physics',
        'electrical_engineering', 'elementary_mathematics',
        'high_school_biology', 'high_school_chemistry',
        'high_school_computer_science', 'high_school_mathematics',
        'high_school_physics', 'high_school_statistics', 'machine_learning',
    ],
    'social-science': [
        'econometrics', 'high_school_geography',
        'high_school_government_and_politics', 'high_school_macroeconomics',
        'high_school_microeconomics', 'high_school_psychology',
        'human_sexuality', 'professional_psychology', 'public_relations',
        'security_studies', 'sociology', 'us_foreign_policy',
    ],
    'other': [
        'business_ethics', 'clinical_knowledge', 'college_medicine',
        'global_facts', 'human_aging', 'management', 'marketing',
        'medical_genetics', 'miscellaneous', 'nutrition',
        'professional_accounting', 'professional_medicine', 'virology',
    ],
}

# Test questions per subject (rows of test/<subject>_test.csv).
_test_sizes = {
    'abstract_algebra': 100,
    'anatomy': 135,
    'astronomy': 152,
    'business_ethics': 100,
    'clinical_knowledge': 265,
    'college_biology': 144,
    'college_chemistry': 100,
    'college_computer_science': 100,
    'college_mathematics': 100,
    'college_medicine': 173,
    'college_physics': 102,
    'computer_security': 100,
    'conceptual_physics': 235,
    'econometrics': 114,
    'electrical_engineering': 145,
    'elementary_mathematics': 378,
    'formal_logic': 126,
    'global_facts': 100,
    'high_school_biology': 310,
    'high_school_chemistry': 203,
    'high_school_computer_science': 100,
    'high_school_european_history': 165,
    'high_school_geography': 198,
    'high_school_government_and_politics': 193,
    'high_school_macroeconomics': 390,
    'high_school_mathematics': 270,
    'high_school_microeconomics': 238,
    'high_school_physics': 151,
    'high_school_psychology': 545,
    'high_school_statistics': 216,
    'high_school_us_history': 204,
    'high_school_world_history': 237,
    'human_aging': 223,
    'human_sexuality': 131,
    'international_law': 121,
    'jurisprudence': 108,
    'logical_fallacies': 163,
    'machine_learning': 112,
    'management': 103,
    'marketing': 234,
    'medical_genetics': 100,
    'miscellaneous': 783,
    'moral_disputes': 346,
    'moral_scenarios': 895,
    'nutrition': 306,
    'philosophy': 311,
    'prehistory': 324,
    'professional_accounting': 282,
    'professional_law': 1534,
    'professional_medicine': 272,
    'professional_psychology': 612,
    'public_relations': 110,
    'security_studies': 245,
    'sociology': 201,
    'us_foreign_policy': 100,
    'virology': 166,
    'world_religions': 171,
}

mmlu_summary_groups = [
    {'name': f'mmlu-{category}',
     'subsets': [f'lukaemon_mmlu_{s}' for s in subjects]}
    for category, subjects in _categories.items()
]
_all = [f'lukaemon_mmlu_{s}' for subjects in _categories.values()
        for s in subjects]
mmlu_summary_groups.append({'name': 'mmlu', 'subsets': _all})
mmlu_summary_groups.append({
    'name': 'mmlu-weighted', 'subsets': _all,
    'weights': {f'lukaemon_mmlu_{s}': n for s, n in _test_sizes.items()}})
