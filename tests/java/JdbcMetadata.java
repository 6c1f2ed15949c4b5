// pgjdbc (Debian's libpostgresql-jdbc-java) against the Postgres port, as DBeaver and Metabase use it:
// DatabaseMetaData's tables, columns and primary keys, and a prepared query with a parameter.
//
// Usage: java -cp /usr/share/java/postgresql.jar JdbcMetadata.java PORT USER PASSWORD PERIOD
// Prints tab-separated lines: "table NAME TYPE", "column NAME TYPE", "primary_keys N", "branches N".
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

public class JdbcMetadata {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/leaderboard";
        try (Connection connection = DriverManager.getConnection(url, args[1], args[2])) {
            DatabaseMetaData meta = connection.getMetaData();
            try (ResultSet tables = meta.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"})) {
                while (tables.next()) {
                    System.out.println("table\t" + tables.getString("TABLE_NAME") + "\t" + tables.getString("TABLE_TYPE"));
                }
            }
            try (ResultSet columns = meta.getColumns(null, "public", "scorecard", "%")) {
                while (columns.next()) {
                    System.out.println("column\t" + columns.getString("COLUMN_NAME") + "\t" + columns.getString("TYPE_NAME"));
                }
            }
            int keys = 0;
            try (ResultSet primary = meta.getPrimaryKeys(null, "public", "scorecard")) {
                while (primary.next()) {
                    keys++;
                }
            }
            System.out.println("primary_keys\t" + keys);
            try (PreparedStatement query = connection.prepareStatement(
                    "SELECT count(*) FROM scorecard WHERE period = ?")) {
                query.setString(1, args[3]);
                try (ResultSet rows = query.executeQuery()) {
                    rows.next();
                    System.out.println("branches\t" + rows.getLong(1));
                }
            }
        }
    }
}
