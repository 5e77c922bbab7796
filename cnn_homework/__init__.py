"""The student side of the course's homework: the checks a homework notebook calls, and a self-check.

    from cnn_homework import checks
    checks.check_conv_forward(conv_forward_naive)

``python -m cnn_homework check my_hw2_conv.ipynb`` runs a notebook top to bottom the way the
grader will and reports every check before you submit. What both need is one install, in the course
repository: ``pip install -e '.[homework]'`` (on Colab, each homework notebook's first cell).

Nothing here holds a solution, a hidden test or an answer key: those stay with the instructor
(``homework/source``) and the grader (``homework/grading``), which runs these same checks outside
the student's process.
"""
