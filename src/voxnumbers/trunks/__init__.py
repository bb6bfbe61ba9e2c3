"""SIP trunks: where numbers route to, with the credentials and addresses allowed on them."""
