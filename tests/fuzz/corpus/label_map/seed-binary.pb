

cat