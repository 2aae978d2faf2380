"""A small shop in MariaDB, awkward on purpose: quoted mixed-case names, odd types, views
(one reading another database, one broken), comments, a partitioned table."""

SHOP_SQL = """
CREATE TABLE customers (
    customer_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(255) NOT NULL COMMENT 'Lower-cased at sign-up',
    country CHAR(2) NOT NULL DEFAULT 'GB',
    plan ENUM('free','pro','team') DEFAULT 'free',
    flags SET('beta','staff'),
    signed_up_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    touched_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    is_active TINYINT(1) NOT NULL DEFAULT 1,
    profile JSON,
    born YEAR,
    home POINT,
    email_domain VARCHAR(255) AS (SUBSTRING_INDEX(email, '@', -1)) VIRTUAL
) ENGINE=InnoDB COMMENT='One row per customer who ever signed up';
CREATE TABLE `Order Lines` (
    `Order ID` BIGINT NOT NULL,
    `Line` INT NOT NULL,
    `unitPrice` DECIMAL(12,2) UNSIGNED,
    `Bits` BIT(8),
    `Raw` VARBINARY(16),
    PRIMARY KEY (`Order ID`, `Line`)
) ENGINE=InnoDB;
CREATE TABLE orders (
    order_id BIGINT NOT NULL,
    customer_id BIGINT UNSIGNED NOT NULL,
    amount DECIMAL(12,2) NOT NULL,
    ordered_on DATE NOT NULL,
    PRIMARY KEY (order_id, ordered_on)
) ENGINE=InnoDB PARTITION BY RANGE (YEAR(ordered_on)) (
    PARTITION p2024 VALUES LESS THAN (2025),
    PARTITION p2025 VALUES LESS THAN (2026)
);
CREATE TABLE scratch_log (line TEXT) ENGINE=MyISAM;
INSERT INTO customers (email) VALUES ('a@example.com'), ('b@example.com'), ('c@example.org');
INSERT INTO scratch_log VALUES ('one'), ('two');
CREATE VIEW big_orders AS SELECT o.order_id, o.amount FROM orders o WHERE o.amount > 100;
CREATE VIEW `Customer Orders` AS
    WITH recent AS (SELECT order_id, customer_id FROM orders WHERE ordered_on > '2025-01-01')
    SELECT c.email, r.order_id FROM customers c JOIN recent r ON r.customer_id = c.customer_id;
CREATE TABLE doomed (id INT);
CREATE VIEW broken AS SELECT id FROM doomed;
DROP TABLE doomed
"""


def build_mysql_shop(server, database: str) -> None:
    server.execute(SHOP_SQL, database=database)
