"""Background jobs: the store-backed runner and worker, its locks and leases, scheduled retraining."""
