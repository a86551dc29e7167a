"""Session-state keys in one place, so pages and helpers never disagree on a spelling."""

AUTHENTICATOR = "cb_authenticator"
LOGOUT_REQUESTED = "cb_logout_requested"
FLASH = "cb_flash"  # (kind, message) shown once on the next run
AUTH_STATUS = "authentication_status"  # owned by streamlit-authenticator
USERNAME = "username"  # owned by streamlit-authenticator
LAST_ACTION = "cb_last_action"  # actions.LastAction of the last rating change (for undo)
TOAST = "cb_toast"  # text of a toast to show once on the next run
DETAILS = "cb_details"  # tconst whose details dialog is open
