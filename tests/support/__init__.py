"""Test support code (servers, browsers) shared by several test folders."""
