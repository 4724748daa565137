"""Sphinx extension: textual citations whose link is the whole "Kaplan et al. [2020]", not the bare year.

sphinxcontrib-bibtex's author-year style links only the year of a textual citation (``{cite:t}``), so a screen
reader's list of links shows "2020", "2022", "2024" with nothing to tell them apart. This registers the
``author_year_linked`` referencing style (``bibtex_reference_style`` in ``_config.yml``): the author-year style
with the textual citation linked as a whole. Parenthetical citations already link "Author, year".
"""

from __future__ import annotations

from dataclasses import dataclass

import sphinxcontrib.bibtex.plugin
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.referencing.extra_author import ExtraAuthorReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_empty import ExtraEmptyReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_label import ExtraLabelReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle
from sphinxcontrib.bibtex.style.template import join, join2, post_text, pre_text, reference, year

STYLE = "author_year_linked"


@dataclass
class LinkedTextualReferenceStyle(BasicAuthorYearTextualReferenceStyle):
    """Textual author-year citation, linked from the first author's name to the closing bracket."""

    def inner(self, role_name: str):
        return reference[
            join(sep=self.text_reference_sep)[
                self.person.author_or_editor_or_title(full="s" in role_name),
                join[
                    self.bracket.left,
                    join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[pre_text, year, post_text],
                    self.bracket.right,
                ],
            ]
        ]


@dataclass
class LinkedAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year style (2.7) with :class:`LinkedTextualReferenceStyle`."""

    def __post_init__(self):
        self.styles.extend([
            BasicAuthorYearParentheticalReferenceStyle(
                bracket=self.bracket_parenthetical, person=self.person, author_year_sep=self.author_year_sep,
                pre_text_sep=self.pre_text_sep, post_text_sep=self.post_text_sep),
            LinkedTextualReferenceStyle(
                bracket=self.bracket_textual, person=self.person, text_reference_sep=self.text_reference_sep,
                pre_text_sep=self.pre_text_sep, post_text_sep=self.post_text_sep),
            ExtraAuthorReferenceStyle(bracket=self.bracket_author, person=self.person),
            ExtraLabelReferenceStyle(bracket=self.bracket_label),
            ExtraYearReferenceStyle(bracket=self.bracket_year),
            ExtraEmptyReferenceStyle(),
        ])
        # GroupReferenceStyle's own set-up (the role table), skipping AuthorYearReferenceStyle's, done above
        super(AuthorYearReferenceStyle, self).__post_init__()


sphinxcontrib.bibtex.plugin.register_plugin("sphinxcontrib.bibtex.style.referencing", STYLE,
                                            LinkedAuthorYearReferenceStyle)


def setup(app):
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
