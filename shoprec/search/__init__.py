"""The search sources: what shoppers asked the shop's search engines and what they clicked.

* ``request``   the parameters the shop tags each search with (session, query id), shared by
                the shop that sends them and the collectors that read them back
* ``solr_log``  one line of Solr's request log → a ``search`` / ``zero_result`` event
"""
