"""nbgrader configuration of the course folder homework/ (nbgrader 0.9.6, no server, no exchange).

Folders nbgrader uses, all under this directory:
  source/<A>/<A>.ipynb        the one source per assignment: solutions + hidden tests (committed)
  release/<A>/<A>.ipynb       the student version made by `nbgrader generate_assignment` (committed,
                              so the book can link it; regenerate with `python homework/hw.py generate`)
  downloaded/<A>/archive/     submissions as handed in (files `<student>_<A>.ipynb` or zips of them)
  submitted/<student>/<A>/    after `nbgrader zip_collect`
  autograded/, feedback/      after `nbgrader autograde` / `generate_feedback`
  gradebook.db                the SQLite gradebook
homework/hw.py wraps the commands; homework/README.md explains the workflow.
"""
import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "cnn-course"
# Absolute root: the same course folder whatever the current directory.
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# Grading runs every notebook with a per-cell timeout: an infinite loop becomes a
# CellTimeoutError in that cell (0 points for it), the kernel is interrupted and the
# remaining cells and students are graded. Training in hw4 takes a few seconds.
# A notebook whose kernel dies (e.g. os._exit) is reported by `nbgrader autograde` and scores 0;
# the others are still graded (hw.py grade carries on and says so).
c.Execute.timeout = 60

# Student stubs.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Collecting: a file is matched by its path; the student id is everything before
# `_<assignment>.ipynb`, e.g. `downloaded/hw2_conv/archive/jdoe_hw2_conv.ipynb` -> student `jdoe`,
# notebook `hw2_conv.ipynb`. Adapt the expression to your LMS's file names if needed.
c.ZipCollectApp.collector_plugin = "nbgrader.plugins.zipcollect.FileNameCollectorPlugin"
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/]+?)_(?P<file_id>hw\d+_[a-z0-9]+\.ipynb)$"
