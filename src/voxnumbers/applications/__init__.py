"""Voice applications: the URLs a call to a number is answered by."""
