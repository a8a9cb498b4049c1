"""Tasks: one (model, dataset) pair each; infer writes predictions, eval scores them."""
