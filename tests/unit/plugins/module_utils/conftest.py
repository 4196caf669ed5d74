"""Puts this directory on sys.path (pytest does so for a conftest outside a package): the tests
in the packages below import the shared objects of rollout_objects.py."""
