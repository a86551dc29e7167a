"""Streamlit helpers: the only part of ``recsys`` that imports streamlit."""
