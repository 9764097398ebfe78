-- Stage rows that fall outside the window being replaced (must be none).
SELECT count(*) FROM {stage} AS t WHERE ({in_window}) IS NOT TRUE
