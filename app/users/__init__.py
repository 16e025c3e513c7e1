"""People: WeChat users, the school's roster (staff, students), organisation, roles and binding."""
