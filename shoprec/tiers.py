"""What a model folder can serve, by name: shared by the gate, the baselines and serving.

No imports: the registry that records these names runs where NumPy is absent (Airflow).
"""

MODEL = "model"  # the session model
VSKNN = "vsknn"  # the V-SKNN floor (the API's tier name for either variant)
VSKNN_IDF = "vsknn_idf"
VSKNN_VARIANTS = (VSKNN, VSKNN_IDF)  # plain prefix weights, and weights times idf
POPULAR = "popular"  # the most popular items: for a session without a known item
CATEGORY_POPULAR = "category_popular"  # the most popular items of the categories asked for
SERVED = (MODEL, VSKNN, POPULAR, CATEGORY_POPULAR)  # the tier names an answer of the API carries
