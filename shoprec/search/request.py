"""What the shop adds to every search request it sends, so the engine's own records say whose
search it was: the shopper's session and an id for this query (which the result links carry
back as ``qid`` and ``pos``). Solr logs every request parameter, unknown ones too."""

from __future__ import annotations

SESSION_PARAM = "shoprec.session"
QUERY_ID_PARAM = "shoprec.qid"
# On a product link followed from a result list: the query's id and the result's position (1-based).
LINK_QUERY_ID = "qid"
LINK_POSITION = "pos"
