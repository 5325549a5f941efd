"""Impressions collector Lambda (the API's answers, ``shoprec.impressions``): thin entry point
over ``shoprec.collectors.lambda_handler`` (``SHOPREC_SOURCE`` picks the line parser)."""

from shoprec.collectors import lambda_handler as handler

__all__ = ["handler"]
