// pgjdbc against wiretap, the way DBeaver/Metabase/JDBC tools use it. Usage:
//   java -cp /usr/share/java/postgresql.jar:DIR JdbcClient URL
// Prints key=value lines; exits non-zero (with the stack trace) when a call fails.
import java.sql.*;
import java.util.*;

public class JdbcClient {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", "wiretap");
    try (Connection c = DriverManager.getConnection(args[0], props)) {
      DatabaseMetaData md = c.getMetaData();
      System.out.println("product=" + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion());
      List<String> tables = new ArrayList<>();
      try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE"})) {
        while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
      }
      System.out.println("tables=" + String.join(",", tables));
      List<String> cols = new ArrayList<>();
      try (ResultSet rs = md.getColumns(null, "public", "http_events", "%")) {
        while (rs.next()) cols.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME"));
      }
      System.out.println("columns=" + String.join(",", cols.subList(0, 3)) + " count=" + cols.size());
      List<String> schemas = new ArrayList<>();
      try (ResultSet rs = md.getSchemas()) {
        while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
      }
      System.out.println("schemas=" + String.join(",", schemas));
      try (ResultSet rs = md.getPrimaryKeys(null, "public", "http_events")) {
        int n = 0;
        while (rs.next()) n++;
        System.out.println("primaryKeys=" + n);
      }

      // PreparedStatement with setLong/setTimestamp; repeated past prepareThreshold (server-side, binary)
      long total = 0;
      for (int i = 0; i < 7; i++) {
        try (PreparedStatement ps = c.prepareStatement(
            "select count(*) as n, max(latency) as m from http_events where latency >= ? and time_ >= ?")) {
          ps.setLong(1, 0L);
          ps.setTimestamp(2, new Timestamp(0L));
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            total = rs.getLong("n");
          }
        }
      }
      System.out.println("prepared=" + total);
      try (PreparedStatement ps = c.prepareStatement("select ?::int + 1 as a, ? as s, time_ from http_events order by time_ limit 1")) {
        for (int i = 0; i < 6; i++) {
          ps.setInt(1, 41);
          ps.setString(2, "x");
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (i == 5) System.out.println("binary=" + rs.getInt("a") + "," + rs.getString("s") + "," + (rs.getTimestamp("time_") != null));
          }
        }
      }

      // fetchSize with autocommit off: the driver uses a portal and Execute with a row limit
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.setFetchSize(3);
        int n = 0;
        try (ResultSet rs = st.executeQuery("select req_path from http_events")) {
          while (rs.next()) n++;
        }
        System.out.println("fetched=" + n);
      }
      c.commit();

      // SQL cursors through the extended protocol (pgjdbc sends every statement as Parse/Bind/Execute)
      try (PreparedStatement declare = c.prepareStatement("DECLARE jc CURSOR FOR select req_path from http_events where resp_status >= ? order by time_")) {
        declare.setInt(1, 100);
        declare.execute();
      }
      int cursorRows = 0, fetches = 0;
      try (Statement st = c.createStatement()) {
        for (;;) {
          int got = 0;
          try (ResultSet rs = st.executeQuery("FETCH 20 FROM jc")) {
            while (rs.next()) got++;
          }
          fetches++;
          cursorRows += got;
          if (got == 0) break;
        }
        st.execute("CLOSE jc");
      }
      c.commit();
      System.out.println("cursor=" + cursorRows + "," + fetches);
      c.setAutoCommit(true);

      // setQueryTimeout: the driver sends a CancelRequest; the server answers 57014
      try (Statement st = c.createStatement()) {
        st.setQueryTimeout(1);
        st.executeQuery("select count(*) from range(100000000000)");
        System.out.println("timeout=none");
      } catch (SQLException e) {
        System.out.println("timeout=" + e.getSQLState());
      }
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select 1 as one")) {
        rs.next();
        System.out.println("after=" + rs.getInt(1));
      }
    }
  }
}
