"""Session-state keys in one place, so pages and helpers never disagree on a spelling."""

AUTHENTICATOR = "cb_authenticator"
LOGOUT_REQUESTED = "cb_logout_requested"
FLASH = "cb_flash"  # (kind, message) shown once on the next run
AUTH_STATUS = "authentication_status"  # owned by streamlit-authenticator
USERNAME = "username"  # owned by streamlit-authenticator
