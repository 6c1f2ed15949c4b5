// DBeaver's navigator and Metabase's sync against the Postgres port: the SQL each sends (taken from their
// sources, DBeaver 24/25's org.jkiss.dbeaver.ext.postgresql model and Metabase's driver/postgres.clj, and
// matched against captures of their traffic), sent through pgjdbc as they send it (object ids bound as
// int8, names as varchar, the extended protocol) and read by column name as they read it.
//
// Usage: java -cp /usr/share/java/postgresql.jar ToolCatalogs.java dbeaver|metabase PORT USER PASSWORD
// Prints tab-separated lines of what the tool would show; see tests/tests/sql.rs for their meaning.
import java.sql.Array;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class ToolCatalogs {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[1] + "/leaderboard";
        if (args[0].equals("dbeaver")) {
            dbeaver(url, args[2], args[3]);
        } else {
            metabase(url, args[2], args[3]);
        }
    }

    static void print(Object... fields) {
        StringBuilder line = new StringBuilder();
        for (Object field : fields) {
            if (line.length() > 0) line.append('\t');
            line.append(field);
        }
        System.out.println(line);
    }

    /** Runs `sql` with `binds` (Long as int8, String as varchar), as a prepared statement. */
    static ResultSet query(Connection connection, String sql, Object... binds) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        for (int i = 0; i < binds.length; i++) {
            if (binds[i] instanceof Long) {
                statement.setLong(i + 1, (Long) binds[i]);
            } else {
                statement.setString(i + 1, (String) binds[i]);
            }
        }
        statement.closeOnCompletion();
        return statement.executeQuery();
    }

    static int count(ResultSet rows) throws SQLException {
        int n = 0;
        while (rows.next()) n++;
        rows.close();
        return n;
    }

    // ---- DBeaver: connect, then Databases > leaderboard > Schemas > public > Tables/Views > Columns ----

    static Connection dbeaverConnection(String url, String user, String password, String purpose) throws SQLException {
        Connection connection = DriverManager.getConnection(url, user, password);
        connection.setClientInfo("ApplicationName", "DBeaver 25.1.5 - " + purpose + " <leaderboard>");
        try (ResultSet defaults = query(connection, "SELECT current_schema(),session_user")) {
            defaults.next();
            print("defaults", purpose, defaults.getString(1), defaults.getString(2));
        }
        return connection;
    }

    static void dbeaver(String url, String user, String password) throws SQLException {
        Connection main = dbeaverConnection(url, user, password, "Main");
        long publicOid = -1;
        try (ResultSet schemas = query(main,
                "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass\n"
                + " ORDER BY nspname")) {
            while (schemas.next()) {
                String name = schemas.getString("nspname");
                schemas.getLong("nspowner");
                schemas.getObject("nspacl");
                schemas.getString("description");
                if (name.equals("public")) publicOid = schemas.getLong("oid");
                print("schema", name);
            }
        }
        try (ResultSet path = query(main, "SHOW search_path")) {
            path.next();
            print("search_path", path.getString(1));
        }

        Connection meta = dbeaverConnection(url, user, password, "Metadata");
        query(meta, "SHOW search_path").close();
        try (ResultSet database = query(meta, "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=?", "leaderboard")) {
            while (database.next()) {
                database.getLong("oid");
                database.getLong("datdba");
                database.getInt("encoding");
                database.getString("datcollate");
                database.getString("datctype");
                database.getBoolean("datistemplate");
                database.getInt("datconnlimit");
                database.getLong("dattablespace");
                print("database", database.getString("datname"), database.getBoolean("datallowconn"));
            }
        }
        try (ResultSet setting = query(meta, "select * from pg_catalog.pg_settings where name=?", "standard_conforming_strings")) {
            while (setting.next()) print("setting", setting.getString("name"), setting.getString("setting"));
        }
        print("keywords", meta.getMetaData().getSQLKeywords().isEmpty() ? "none" : "some");
        try (ResultSet version = query(meta, "SELECT version()")) {
            version.next();
            print("version", version.getString(1));
        }
        print("probe", count(query(meta, "SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1")));
        print("probe", count(query(meta, "SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1")));
        Map<Long, String> types = new HashMap<>();
        try (ResultSet type = query(meta,
                "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description\n"
                + "FROM pg_catalog.pg_type t\n"
                + "LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem \n"
                + "LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid\n"
                + "WHERE t.typname IS NOT NULL\n"
                + "AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')")) {
            while (type.next()) {
                type.getLong("typnamespace");
                type.getString("typtype");
                type.getString("typcategory");
                type.getString("base_type_name");
                types.put(type.getLong("oid"), type.getString("typname"));
            }
        }
        print("types", types.size());
        count(query(meta, "SELECT * FROM pg_catalog.pg_enum"));

        // Tables, then their sizes for the navigator's bars.
        Map<String, Long> relations = new LinkedHashMap<>();
        try (ResultSet table = query(meta,
                "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key \n"
                + "FROM pg_catalog.pg_class c\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass\n"
                + "WHERE c.relnamespace=? AND c.relkind not in ('i','I','c')", publicOid)) {
            while (table.next()) {
                table.getLong("relowner");
                table.getObject("relacl");
                Array options = table.getArray("reloptions");
                if (options != null) options.getArray();
                table.getString("relpersistence");
                table.getDouble("reltuples");
                table.getBoolean("relispartition");
                table.getBoolean("relhassubclass");
                table.getString("partition_key");
                table.getString("partition_expr");
                table.getString("description");
                relations.put(table.getString("relname"), table.getLong("oid"));
                print("table", table.getString("relname"), table.getString("relkind"));
            }
        }
        try (ResultSet size = query(meta,
                "select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size\n"
                + "FROM pg_class c\n"
                + "WHERE c.relnamespace=?", publicOid)) {
            int sized = 0;
            while (size.next()) {
                size.getLong("total_rel_size");
                size.getLong("rel_size");
                sized++;
            }
            print("sizes", sized);
        }
        // Columns of each table and view, their types from the type cache.
        for (Map.Entry<String, Long> relation : relations.entrySet()) {
            try (ResultSet column = query(meta,
                    "SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid\n"
                    + "FROM pg_catalog.pg_attribute a\n"
                    + "INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)\n"
                    + "LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)\n"
                    + "LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)\n"
                    + "LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid\n"
                    + "WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=?\n"
                    + "ORDER BY a.attnum", relation.getValue())) {
                while (column.next()) {
                    if (column.getInt("attnum") <= 0) continue;
                    column.getInt("atttypmod");
                    column.getInt("attndims");
                    column.getObject("attacl");
                    column.getString("attidentity");
                    column.getString("def_value");
                    column.getString("description");
                    print("column", column.getString("relname"), column.getString("attname"),
                            types.getOrDefault(column.getLong("atttypid"), "?" + column.getLong("atttypid")),
                            column.getBoolean("attnotnull"));
                }
            }
        }
        // Opening a table's editor: its constraints and indexes.
        long scorecard = relations.getOrDefault("scorecard", -1L);
        print("constraints", count(query(meta,
                "SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then \"substring\"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy\n"
                + "FROM pg_catalog.pg_constraint c\n"
                + "INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid\n"
                + "LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass\n"
                + "WHERE c.conrelid=?\n"
                + "ORDER BY c.oid", scorecard)));
        print("indexes", count(query(meta,
                "SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans\n"
                + "FROM pg_catalog.pg_index i\n"
                + "INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid\n"
                + "INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid\n"
                + "WHERE  i.indrelid=? ORDER BY tabrelname, c.relname", scorecard)));
        print("parents", count(query(meta,
                "SELECT i.*,c.relnamespace FROM pg_catalog.pg_inherits i,pg_catalog.pg_class c WHERE i.inhrelid=? AND c.oid=i.inhparent ORDER BY i.inhseqno", scorecard)));
        print("references", count(query(meta,
                "SELECT DISTINCT connamespace FROM pg_catalog.pg_constraint WHERE confrelid=?", scorecard)));
        try (ResultSet role = query(meta,
                "SELECT a.oid,a.*,pd.description FROM pg_catalog.pg_roles a \n"
                + "left join pg_catalog.pg_shdescription pd on a.oid = pd.objoid\n"
                + "ORDER BY a.rolname")) {
            while (role.next()) print("role", role.getString("rolname"));
        }
        main.close();
        meta.close();
    }

    // ---- Metabase: connection test, pool check-out, then the metadata sync ----

    static void metabase(String url, String user, String password) throws SQLException {
        try (Connection test = DriverManager.getConnection(url, user, password);
             ResultSet one = query(test, "SELECT 1")) {
            one.next();
            print("can_connect", one.getInt(1) == 1);
        }
        Connection connection = DriverManager.getConnection(url, user, password);
        // The pool's first look and each check-out.
        print("isolation", connection.getTransactionIsolation());
        print("catalog", connection.getCatalog());
        print("valid", connection.isValid(5));
        connection.setTransactionIsolation(Connection.TRANSACTION_READ_UNCOMMITTED);
        DatabaseMetaData meta = connection.getMetaData();
        print("product", meta.getDatabaseProductName(), meta.getDatabaseMajorVersion());
        try (ResultSet zone = query(connection, "show timezone;")) {
            zone.next();
            print("timezone", zone.getString(1));
        }
        List<String> schemas = new ArrayList<>();
        try (ResultSet schema = meta.getSchemas()) {
            while (schema.next()) {
                String name = schema.getString("TABLE_SCHEM");
                if (!name.equals("information_schema") && !name.equals("pg_catalog")) schemas.add(name);
            }
        }
        print("schemas", String.join(",", schemas));
        try (ResultSet privilege = query(connection, String.join("\n",
                "with table_privileges as (",
                " select",
                "   NULL as role,",
                "   t.schemaname as schema,",
                "   t.objectname as table,",
                "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'update') as update,",
                "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'select') as select,",
                "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'insert') as insert,",
                "   pg_catalog.has_table_privilege(     current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'delete') as delete",
                " from (",
                "   select schemaname, tablename as objectname from pg_catalog.pg_tables",
                "   union",
                "   select schemaname, viewname as objectname from pg_catalog.pg_views",
                "   union",
                "   select schemaname, matviewname as objectname from pg_catalog.pg_matviews",
                " ) t",
                " where t.schemaname !~ '^pg_'",
                "   and t.schemaname <> 'information_schema'",
                "   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')",
                ")",
                "select t.*",
                "from table_privileges t"))) {
            while (privilege.next()) {
                print("privilege", privilege.getString("schema") + "." + privilege.getString("table"),
                        privilege.getBoolean("select"), privilege.getBoolean("insert")
                        || privilege.getBoolean("update") || privilege.getBoolean("delete"));
            }
        }
        List<String> tables = new ArrayList<>();
        try (ResultSet table = query(connection,
                "SELECT \"n\".\"nspname\" AS \"schema\", \"c\".\"relname\" AS \"name\", CASE \"c\".\"relkind\" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS \"type\", \"d\".\"description\" AS \"description\", NULLIF(\"stat\".\"n_live_tup\", ?) AS \"estimated_row_count\" FROM \"pg_catalog\".\"pg_class\" AS \"c\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"n\" ON \"c\".\"relnamespace\" = \"n\".\"oid\" LEFT JOIN \"pg_catalog\".\"pg_description\" AS \"d\" ON (\"c\".\"oid\" = \"d\".\"objoid\") AND (\"d\".\"objsubid\" = ?) AND (\"d\".\"classoid\" = 'pg_class'::regclass) LEFT JOIN \"pg_stat_user_tables\" AS \"stat\" ON (\"n\".\"nspname\" = \"stat\".\"schemaname\") AND (\"c\".\"relname\" = \"stat\".\"relname\") WHERE (\"c\".\"relnamespace\" = \"n\".\"oid\") AND (\"n\".\"nspname\" !~ ?) AND (\"n\".\"nspname\" <> ?) AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND (\"n\".\"nspname\" IN (?)) ORDER BY \"type\" ASC, \"schema\" ASC, \"name\" ASC",
                0L, 0L, "^pg_", "information_schema", "public")) {
            while (table.next()) {
                table.getString("description");
                table.getObject("estimated_row_count");
                tables.add(table.getString("name"));
                print("table", table.getString("name"), table.getString("type"));
            }
        }
        print("enums", count(query(connection,
                "SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)")));
        Map<String, List<String[]>> fields = new LinkedHashMap<>();
        try (ResultSet field = query(connection,
                "SELECT \"c\".\"column_name\" AS \"name\", CASE WHEN \"c\".\"udt_schema\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"c\".\"udt_name\") ELSE FORMAT('\"%s\".\"%s\"', \"c\".\"udt_schema\", \"c\".\"udt_name\") END AS \"database-type\", \"c\".\"ordinal_position\" - 1 AS \"database-position\", \"c\".\"table_schema\" AS \"table-schema\", \"c\".\"table_name\" AS \"table-name\", \"pk\".\"column_name\" IS NOT NULL AS \"pk?\", COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST(\"c\".\"table_schema\" AS TEXT), CAST(\"c\".\"table_name\" AS TEXT)) AS REGCLASS) AS OID), \"c\".\"ordinal_position\") AS \"field-comment\", ((\"column_default\" IS NULL) OR (LOWER(\"column_default\") = 'null')) AND (\"is_nullable\" = 'NO') AND NOT (((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO')) AS \"database-required\", \"column_default\" AS \"database-default\", ((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO') AS \"database-is-auto-increment\", \"is_generated\" = ? AS \"database-is-generated\", \"is_nullable\" = 'YES' AS \"database-is-nullable\" FROM \"information_schema\".\"columns\" AS \"c\" LEFT JOIN (SELECT \"tc\".\"table_schema\", \"tc\".\"table_name\", \"kc\".\"column_name\" FROM \"information_schema\".\"table_constraints\" AS \"tc\" INNER JOIN \"information_schema\".\"key_column_usage\" AS \"kc\" ON (\"tc\".\"constraint_name\" = \"kc\".\"constraint_name\") AND (\"tc\".\"table_schema\" = \"kc\".\"table_schema\") AND (\"tc\".\"table_name\" = \"kc\".\"table_name\") WHERE \"tc\".\"constraint_type\" = 'PRIMARY KEY') AS \"pk\" ON (\"c\".\"table_schema\" = \"pk\".\"table_schema\") AND (\"c\".\"table_name\" = \"pk\".\"table_name\") AND (\"c\".\"column_name\" = \"pk\".\"column_name\") WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"table_schema\" IN (?)) UNION ALL SELECT \"pa\".\"attname\" AS \"name\", CASE WHEN \"ptn\".\"nspname\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"pt\".\"typname\") ELSE FORMAT('\"%s\".\"%s\"', \"ptn\".\"nspname\", \"pt\".\"typname\") END AS \"database-type\", \"pa\".\"attnum\" - 1 AS \"database-position\", \"pn\".\"nspname\" AS \"table-schema\", \"pc\".\"relname\" AS \"table-name\", FALSE AS \"pk?\", NULL AS \"field-comment\", FALSE AS \"database-required\", NULL AS \"database-default\", FALSE AS \"database-is-auto-increment\", FALSE AS \"database-is-generated\", FALSE AS \"database-is-nullable\" FROM \"pg_catalog\".\"pg_class\" AS \"pc\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"pn\" ON \"pn\".\"oid\" = \"pc\".\"relnamespace\" INNER JOIN \"pg_catalog\".\"pg_attribute\" AS \"pa\" ON \"pa\".\"attrelid\" = \"pc\".\"oid\" INNER JOIN \"pg_catalog\".\"pg_type\" AS \"pt\" ON \"pt\".\"oid\" = \"pa\".\"atttypid\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"ptn\" ON \"ptn\".\"oid\" = \"pt\".\"typnamespace\" WHERE (\"pc\".\"relkind\" = 'm') AND (\"pa\".\"attnum\" >= 1) AND (\"pn\".\"nspname\" IN (?)) ORDER BY \"table-schema\" ASC, \"table-name\" ASC, \"database-position\" ASC",
                "ALWAYS", "public", "public")) {
            while (field.next()) {
                field.getString("field-comment");
                field.getBoolean("database-required");
                field.getBoolean("database-is-auto-increment");
                field.getBoolean("database-is-nullable");
                String table = field.getString("table-name");
                String[] column = {field.getString("name"), field.getString("database-type")};
                fields.computeIfAbsent(table, t -> new ArrayList<>()).add(column);
                print("field", table, column[0], column[1], field.getInt("database-position"), field.getBoolean("pk?"));
            }
        }
        // JSON unfolding's per-table look through DatabaseMetaData.
        for (String table : tables) {
            print("jdbc_columns", table, count(meta.getColumns(null, "public", table, null)));
            print("jdbc_primary_keys", table, count(meta.getPrimaryKeys(null, "public", table)));
        }
        print("foreign_keys", count(query(connection,
                "SELECT \"fk_ns\".\"nspname\" AS \"fk-table-schema\", \"fk_table\".\"relname\" AS \"fk-table-name\", \"fk_column\".\"attname\" AS \"fk-column-name\", \"pk_ns\".\"nspname\" AS \"pk-table-schema\", \"pk_table\".\"relname\" AS \"pk-table-name\", \"pk_column\".\"attname\" AS \"pk-column-name\" FROM \"pg_constraint\" AS \"c\" INNER JOIN \"pg_class\" AS \"fk_table\" ON \"c\".\"conrelid\" = \"fk_table\".\"oid\" INNER JOIN \"pg_namespace\" AS \"fk_ns\" ON \"c\".\"connamespace\" = \"fk_ns\".\"oid\" INNER JOIN \"pg_attribute\" AS \"fk_column\" ON \"c\".\"conrelid\" = \"fk_column\".\"attrelid\" INNER JOIN \"pg_class\" AS \"pk_table\" ON \"c\".\"confrelid\" = \"pk_table\".\"oid\" INNER JOIN \"pg_namespace\" AS \"pk_ns\" ON \"pk_table\".\"relnamespace\" = \"pk_ns\".\"oid\" INNER JOIN \"pg_attribute\" AS \"pk_column\" ON \"c\".\"confrelid\" = \"pk_column\".\"attrelid\" WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"contype\" = 'f'::char) AND (\"fk_column\".\"attnum\" = ANY(c.conkey)) AND (\"pk_column\".\"attnum\" = ANY(c.confkey)) AND (\"fk_ns\".\"nspname\" IN (?)) ORDER BY \"fk-table-schema\" ASC, \"fk-table-name\" ASC",
                "public")));
        // The analysis after the sync: a sample of each table, text cut to 1234 characters.
        for (Map.Entry<String, List<String[]>> table : fields.entrySet()) {
            List<String> items = new ArrayList<>();
            for (String[] column : table.getValue()) {
                String qualified = "\"public\".\"" + table.getKey() + "\".\"" + column[0] + "\"";
                items.add(column[1].equals("text")
                        ? "SUBSTRING(" + qualified + ", 1, 1234) AS \"substring_" + column[0] + "\""
                        : qualified + " AS \"" + column[0] + "\"");
            }
            try (Statement sample = connection.createStatement()) {
                sample.setMaxRows(10000);
                try (ResultSet rows = sample.executeQuery("-- Metabase\nSELECT " + String.join(", ", items)
                        + " FROM \"public\".\"" + table.getKey() + "\" LIMIT 10000")) {
                    print("sample", table.getKey(), count(rows));
                }
            }
        }
        connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        connection.close();
    }
}
