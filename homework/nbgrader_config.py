"""nbgrader configuration of the course folder homework/ (nbgrader 0.9.6), used by `hw.py generate` only.

  source/<A>/<A>.ipynb        the one source per assignment: solutions + hidden tests (committed)
  release/<A>/<A>.ipynb       the student version made by `nbgrader generate_assignment` (committed,
                              so the book can link it; regenerate with `python homework/hw.py generate`)

Collecting and grading are homework/grading (sandboxed); homework/README.md explains why.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "cnn-course"
# Absolute root: the same course folder whatever the current directory.
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# Student stubs.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
