"""Where the documentation lives: one place for the site's address.

The estimators' HTML representation in Jupyter links to their API page
(scikit-learn's ``_doc_link_module`` / ``_doc_link_template`` mechanism), and
the Sphinx configuration uses the same address as the site's base URL.
"""

#: Base URL of the built documentation site (``docs/`` built with Sphinx).
DOCS_URL = "https://skneuron.github.io/skneuron"

#: API page of a public class, formatted by scikit-learn with ``estimator_module``
#: (the public module, e.g. ``skneuron``) and ``estimator_name``. Sphinx's
#: autosummary writes these pages to ``generated/`` (see ``docs/api.rst``).
API_PAGE_TEMPLATE = DOCS_URL + "/generated/{estimator_module}.{estimator_name}.html"
