"""The app's use cases: what a page or a command asks for, over the store, catalogue and models."""
