"""The annual rescue-system evaluation (危重孕产妇救治体系技术评估): schemes as data, their scoring, the 评估 pages."""
