DROP TABLE count_marks;
