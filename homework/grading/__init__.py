"""Sandboxed grading of the homework notebooks (instructor side; not installed with cnn_core).

    collect.py      a class's submissions from a folder, a zip, Canvas or Moodle -> one notebook per student
    notebook.py     a submission matched to the assignment's source, cell by cell
    reference.py    the sandbox's files: the runner and a cnn_core without the reference solutions
    sandbox.py      bubblewrap around one student's Python process, with limits
    wire.py         the data format across the sandbox wall (JSON + numpy arrays, no pickle)
    runner.py       what runs inside the sandbox
    grade.py        one submission: cells in the sandbox, checks here
    batch.py        a class in parallel: results, CSVs, feedback, summary
    similarity.py   copied code, with copydetect

``homework/hw.py`` is the command line; ``homework/README.md`` the instructor's guide.
"""
