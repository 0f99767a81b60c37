"""Reading CI results (JUnit XML, Cobertura coverage, `toJSON(needs)`) and rendering them
as Markdown for a pull-request comment. Pure functions over files and data: no GitHub, no
workflow commands, so the rendering is tested with golden files."""
