"""The search sources: what shoppers asked the shop's search engines and what they clicked.

* ``request``        the parameters the shop tags each search with (session, query id), shared
                     by the shop that sends them and the collectors that read them back
* ``http``           JSON over HTTP, and the failures a caller tells apart (engine down, refused)
* ``solr``           the shop's Solr client (index, tagged search)
* ``solr_log``       one line of Solr's request log → a ``search`` / ``zero_result`` event
* ``opensearch``     the OpenSearch client (index, search, PIT pages)
* ``ubi``            User Behavior Insights documents: written by the shop, read as events
* ``ubi_collector``  pulls new UBI documents from a durable watermark, exactly once
* ``catalogue``      the synthetic shop's products in words (title, category, brand, price)
* ``shoppers``       searching shoppers on two storefronts, one per engine, over HTTP
"""
