package engine
import ("testing";"fmt";"context";"os";"encoding/csv";"strconv")
func loadTRT(t *testing.T) []Result {
 f,err:=os.Open("/work/shared/data/tensorrt-bert.csv"); if err!=nil{t.Skip()}
 rows,_:=csv.NewReader(f).ReadAll(); var out []Result
 for _,r:=range rows[1:]{ b,_:=strconv.Atoi(r[2]); s,_:=strconv.Atoi(r[4]); l,_:=strconv.ParseFloat(r[5],64); th,_:=strconv.ParseFloat(r[6],64)
  out=append(out,Result{Config:Config{Model:r[0],Hardware:r[1],BatchSize:b,Precision:Precision(r[3]),SequenceLength:s},LatencyMS:l,Throughput:th,Source:r[7]})}
 return out }
func TestTmpEval(t *testing.T){
 c:=MustBuiltinCatalog(); rs:=LatestSourcePerHardware(loadTRT(t)); fmt.Println(len(rs))
 for _,sp:=range []string{"kfold","hardware"}{ for _,ro:=range []bool{false,true}{ for _,rev:=range []int{0,3}{
  if sp=="kfold"&&rev>0 {continue}
  rows,err:=Evaluate(context.Background(),c,rs,EvalOptions{Split:sp,Metrics:[]Metric{Latency},Seed:1,RooflineOnly:ro,Reveal:rev}); if err!=nil{t.Fatal(err)}
  for _,r:=range rows{fmt.Printf("%-8s %-8s %-15s rev=%d n=%3d mape=%6.1f mdape=%6.1f w10=%5.1f w25=%5.1f rho=%.3f cov=%.3f\n",r.Split,r.Predictor,r.Group,r.Revealed,r.N,r.MAPE,r.MedianAPE,r.Within10,r.Within25,r.Spearman,r.Coverage80)}}}}
 rows,_:=Evaluate(context.Background(),c,DemoHistory(c),EvalOptions{Split:"kfold",Seed:1})
 for _,r:=range rows{fmt.Printf("demo %-8s %-8s n=%3d mape=%6.1f mdape=%6.1f cov=%.3f rho=%.3f\n",r.Split,r.Metric,r.N,r.MAPE,r.MedianAPE,r.Coverage80,r.Spearman)}
}
