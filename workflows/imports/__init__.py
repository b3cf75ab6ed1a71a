"""Import from existing MCH systems (数据导入): institutions, women, pregnancies, visits, deliveries and deaths,
from CSV or xlsx files, through the same validation as the pages, all or nothing (services.py)."""
